# Warnings for the project's own targets; call upscaled_warnings(target).
function(upscaled_warnings target)
  target_compile_options(${target} PRIVATE
    $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wpedantic -Wshadow=local -Wnon-virtual-dtor>
    $<$<AND:$<COMPILE_LANGUAGE:CXX>,$<BOOL:${UPSCALED_WERROR}>>:-Werror>
    $<$<AND:$<COMPILE_LANGUAGE:CUDA>,$<BOOL:${UPSCALED_WERROR}>>:-Werror=all-warnings>)
  # GCC 12 reports -Wrestrict, -Wstringop-overflow and -Warray-bounds inside libstdc++ for
  # `"literal" + std::string` at -O2/-O3
  # (GCC bug 105651, a false positive fixed in GCC 13).
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
    target_compile_options(${target} PRIVATE $<$<COMPILE_LANGUAGE:CXX>:-Wno-restrict -Wno-stringop-overflow -Wno-stringop-overread -Wno-array-bounds>)
  endif()
  if(UPSCALED_SANITIZE)
    target_compile_options(${target} PRIVATE $<$<COMPILE_LANGUAGE:CXX>:-fsanitize=address,undefined -fno-omit-frame-pointer>)
    target_link_options(${target} PRIVATE -fsanitize=address,undefined)
    # app/main.cpp keeps the orderly exit that leak checkers need.
    target_compile_definitions(${target} PRIVATE UPSCALED_SANITIZE_BUILD=1)
  endif()
endfunction()
