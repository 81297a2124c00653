# Sourced by the benchmark scripts that start servers (from the repository root):
#   build_targets BUILD TARGET...  builds LlamaNet targets and llama.cpp's llama-server and
#                            llama-batched-bench (in BUILD/bin), which the option
#                            LLAMANET_LLAMA_TOOLS adds to a configured BUILD; low priority, one
#                            build on the machine at a time
#   make_model BUILD MODEL   makes the tinyllama-1.1b-shaped Q4_0 model once (models/ is ignored)
#   free_port                prints a free loopback port
#   wait_ready PID URL LOG   waits until URL/v1/models answers; fails with the log's tail if the
#                            process exits or 120 s pass
#   stop_servers             ends every PID in `pids` (TERM, then KILL after 10 s)
build_targets() {
  local build=$1
  shift
  cmake -S . -B "$build" -DLLAMANET_LLAMA_TOOLS=ON >/dev/null
  nice -n 10 flock /tmp/llamanet-build.lock cmake --build "$build" -j"${JOBS:-2}" --target "$@"
}

make_model() {
  if [ ! -f "$2" ]; then
    mkdir -p "$(dirname "$2")"
    "$1/tools/mkmodel/llamanet-mkmodel" --output "$2" --preset tinyllama-1.1b --type q4_0
  fi
}

pids=()
stop_servers() {
  for pid in "${pids[@]}"; do
    kill -0 "$pid" 2>/dev/null && kill -TERM "$pid"
  done
  for pid in "${pids[@]}"; do
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
    wait "$pid" 2>/dev/null || true
  done
}

free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

wait_ready() {  # wait_ready PID URL LOG: until GET URL/v1/models answers 200
  for _ in $(seq 1 1200); do
    if ! kill -0 "$1" 2>/dev/null; then
      echo "bench.sh: the server behind $2 exited:" >&2; tail -n 30 "$3" >&2; exit 1
    fi
    curl -sf -o /dev/null "$2/v1/models" && return 0
    sleep 0.1
  done
  echo "bench.sh: the server at $2 never became ready" >&2; tail -n 30 "$3" >&2; exit 1
}
