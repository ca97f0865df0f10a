/^(.*)@remote\.org$/	$1@new.remote.org
/^moved(.*)@/	moved to $1
