# Sourced by the GPU scripts: points CMake at cuDNN. pip's nvidia-cudnn package beside torch
# holds the library (and, in most versions, the headers); .cudnn-headers or ../.cudnn-headers
# (a copy of a cuDNN 9 include folder, carried with the call) stands in for missing headers.
d=$(python3 -c 'import nvidia.cudnn,os;print(list(nvidia.cudnn.__path__)[0])' 2>/dev/null)
CUDNN_CMAKE_ARGS=""
if [[ -n $d ]]; then
  export CUDNN_ROOT=$d
  if [[ ! -f $d/include/cudnn.h ]]; then
    for h in .cudnn-headers ../.cudnn-headers; do
      [[ -f $h/cudnn.h ]] && CUDNN_CMAKE_ARGS="-DUPSCALED_CUDNN_INCLUDE_DIR=$(cd $h && pwd)" && break
    done
  fi
  CUDNN_CMAKE_ARGS="$CUDNN_CMAKE_ARGS -DUPSCALED_CUDNN_LIBRARY=$d/lib/libcudnn.so.9"
fi
echo "cuDNN: ${d:-not found beside torch} ${CUDNN_CMAKE_ARGS}"
