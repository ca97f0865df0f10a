/^special@/	smtp:[special.host]
/^(.*)@(.*)\.test$/	smtp:[$2.relay]:$1
/@remote\.org$/	relay:
/^user\+ext@/	error:5.1.1 extension refused
