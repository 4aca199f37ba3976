#!/bin/bash -eu
# ClusterFuzzLite entry point: the project's OSS-Fuzz-style build script.
exec "$SRC/refalloc/fuzz/build.sh"
