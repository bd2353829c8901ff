#!/bin/sh
# Prints what a run may have left behind on the kernel, one key=value a line.
# usage: check-state.sh KPROBE_GROUP INSTANCE MODULE WORKLOAD_COMM LOCK_FILE
T=/sys/kernel/tracing
group=$1 instance=$2 module=$3 comm=$4 lock=$5
echo "kprobe_events_of_group=$(grep -c ":$group/" $T/kprobe_events)"
echo "kprobe_events_total=$(grep -c . $T/kprobe_events)"
if [ -d "$T/instances/$instance" ]; then echo "instance=present"; else echo "instance=absent"; fi
echo "instances_total=$(ls $T/instances | grep -c .)"
if grep -q "^$module " /proc/modules; then echo "module=loaded"; else echo "module=unloaded"; fi
n=0
for f in $(grep -lx "$comm" /proc/[0-9]*/comm 2>/dev/null); do
  state=$(sed 's/.*) \(.\).*/\1/' "${f%/comm}/stat" 2>/dev/null)
  [ -n "$state" ] && [ "$state" != "Z" ] && n=$((n + 1))
done
echo "workload_processes=$n"
if [ -e "$lock" ]; then echo "lock=present"; else echo "lock=absent"; fi
echo "top_current_tracer=$(cat $T/current_tracer)"
echo "top_ftrace_filter_lines=$(grep -v "^#" $T/set_ftrace_filter | grep -c .)"
echo "nr_hugepages=$(cat /proc/sys/vm/nr_hugepages)"
echo "hugetlbfs_mounts=$(grep -c ' hugetlbfs ' /proc/mounts)"
