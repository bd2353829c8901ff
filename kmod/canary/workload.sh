#!/bin/sh
# One cycle of the canary: open /dev/ab_canary once (one netdev allocated and not freed), say
# ready, then wait to be stopped.
: < /dev/ab_canary || { echo "canary: cannot open /dev/ab_canary" >&2; exit 1; }
echo ready
exec sleep 3600
