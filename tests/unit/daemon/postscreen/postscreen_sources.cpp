// The postscreen parts under unit test (daemon sources are not a library).
#include "daemon/postscreen/postscreen_dnsbl_site.cpp"
