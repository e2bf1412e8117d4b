# Driven by the deploy.standalone_runner CTest: install nabla into a scratch prefix, build the
# runner project (links nabla::inference only) against it, and run it on the bundles that
# make_bundles wrote. Inputs: NABLA_BUILD_DIR, RUNNER_SOURCE_DIR, MAKE_BUNDLES, WORK_DIR, GENERATOR,
# CXX_COMPILER, BUILD_TYPE.
cmake_minimum_required(VERSION 3.25)

function(run_step what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "deploy test: ${what} failed (${rc}):\n${out}")
  endif()
  message(STATUS "deploy test: ${what} ok\n${out}")
endfunction()

set(prefix ${WORK_DIR}/prefix)
set(runner_build ${WORK_DIR}/runner-build)
set(bundles ${WORK_DIR}/bundles)
file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${bundles})

run_step("make bundles" ${MAKE_BUNDLES} ${bundles})
run_step("cmake --install" ${CMAKE_COMMAND} --install ${NABLA_BUILD_DIR} --prefix ${prefix})
run_step("configure runner" ${CMAKE_COMMAND} -S ${RUNNER_SOURCE_DIR} -B ${runner_build} -G ${GENERATOR}
         -DCMAKE_CXX_COMPILER=${CXX_COMPILER} -DCMAKE_BUILD_TYPE=${BUILD_TYPE} -DCMAKE_PREFIX_PATH=${prefix})
run_step("build runner" ${CMAKE_COMMAND} --build ${runner_build})
# The runner's link line names the inference library and not libnabla.
file(GLOB_RECURSE link_files ${runner_build}/*link.txt ${runner_build}/build.ninja)
foreach(f ${link_files})
  file(READ ${f} text)
  if(text MATCHES "libnabla\\.a|libnabla\\.so")
    message(FATAL_ERROR "deploy test: the runner links the full libnabla (${f})")
  endif()
endforeach()
foreach(model mlp cnn)
  run_step("run ${model}" ${runner_build}/runner ${bundles}/${model} ${bundles}/${model}.x.npy ${bundles}/${model}.y.npy)
endforeach()
