#!/usr/bin/env python3
"""Where a sampled thread-time trace (dotnet-trace, converted to Speedscope) spends its running time.

    python3 bench/hot.py trace.speedscope.json [N]

Time in a wait (blocked threads, idle pool threads) is left out, so what remains is
close to CPU time. Prints the top N leaf frames, the top N frames by inclusive running time, and the running time
by the innermost frame of our own code (AiPrompts.*) on the stack.
"""
import json
import sys
from collections import Counter

WAITS = ("WaitNative", "Monitor.Wait", "WaitOneNoCheck", "Sys.Read", "WaitForSignal", "Interop+Sys.Poll",
         "epoll_wait", "Thread.Sleep", "SleepInternal", "WaitHandle.Wait", "LowLevelLifoSemaphore", "Sys.WaitForSocketEvents")

def main(path, top):
    data = json.load(open(path))
    frames = [f["name"] for f in data["shared"]["frames"]]
    leaf, inclusive, ours = Counter(), Counter(), Counter()
    total = 0.0
    for profile in data["profiles"]:
        stack, last = [], None
        for event in profile["events"]:
            at = event["at"]
            if stack and last is not None and at > last:
                elapsed = at - last
                # The converter marks each sample's kind with a pseudo frame on top (CPU_TIME: running managed code,
                # UNMANAGED_CODE_TIME: in native code, waiting or not); the frame below it says which.
                marker = frames[stack[-1]]
                below = frames[stack[-2]] if len(stack) > 1 else marker
                top_frame = below if marker in ("CPU_TIME", "UNMANAGED_CODE_TIME") else marker
                if marker == "CPU_TIME" or not any(w in top_frame for w in WAITS):
                    total += elapsed
                    leaf[top_frame] += elapsed
                    for name in set(frames[i] for i in stack):
                        inclusive[name] += elapsed
                    own = next((frames[i] for i in reversed(stack) if "AiPrompts" in frames[i]), "(no AiPrompts frame)")
                    ours[own] += elapsed
            last = at
            if event["type"] == "O":
                stack.append(event["frame"])
            elif stack:
                stack.pop()
    print(f"running time: {total:.0f} {data['profiles'][0].get('unit', '')} over {len(data['profiles'])} threads")
    for title, counter in (("leaf frames", leaf), ("inclusive", inclusive), ("innermost AiPrompts frame", ours)):
        print(f"\n{title}:")
        for name, value in counter.most_common(top):
            print(f"  {100 * value / total:5.1f}%  {name[:150]}")

if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 25)
