#!/bin/sh
# The target runner's scenarios in one guest boot. Every job file is prepared by the host in
# $W; each scenario writes the runner's exit code and a state check into $W.
# usage: scenarios.sh CLI W APP
CLI=$1 W=$2 APP=$3
LOCK=/run/alloc-balance/lock
check() { sh "$(dirname "$0")/check-state.sh" "ab$1" "alloc-balance-$1" kni_like kni_like_app "$LOCK" > "$W/check-$2.txt"; }
run() { node "$CLI" target run --job "$W/$1.json" > "$W/$1.stdout" 2> "$W/$1.stderr"; echo $? > "$W/$1.rc"; }

# The kernel log must not mention the module until a run loads it.
run unknown
dmesg | grep -c kni_like > "$W/unknown.dmesg-count"
check unknown unknown

insmod "$W/leaky/kni_like.ko" && run loaded; rmmod kni_like
check loaded loaded

run leaky; check leaky leaky
run fixed; check fixed fixed
run exitnow; check exitnow exitnow
run kmem; check kmem kmem
run warn; check warn warn
run timeout; check timeout timeout

# SIGTERM to the runner while the workload of cycle 2 is running.
wait_ready() {
  i=0
  while ! grep -q '^ready$' "$1" 2>/dev/null; do
    i=$((i + 1)); [ $i -gt 600 ] && return 1; sleep 0.1
  done
}
node "$CLI" target run --job "$W/cancel.json" > "$W/cancel.stdout" 2> "$W/cancel.stderr" &
pid=$!
wait_ready "$W/cancel/workload-2.log" || echo "cycle 2 never became ready" > "$W/cancel.problem"
check cancel cancel-before
kill -TERM $pid
wait $pid; echo $? > "$W/cancel.rc"
check cancel cancel

# SIGKILL: the runner cannot clean up; `target cleanup --state` must.
node "$CLI" target run --job "$W/killed.json" > "$W/killed.stdout" 2> "$W/killed.stderr" &
pid=$!
wait_ready "$W/killed/workload-1.log" || echo "cycle 1 never became ready" > "$W/killed.problem"
kill -KILL $pid
wait $pid
check killed killed-before
node "$CLI" target cleanup --state "$W/killed/cleanup-state.json" > "$W/killed-cleanup.stdout" 2> "$W/killed-cleanup.stderr"
echo $? > "$W/killed-cleanup.rc"
check killed killed
echo scenarios-done
