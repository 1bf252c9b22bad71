# lit.cfg.py - lit configuration of the KeOps-MLIR tests.
# SPDX-License-Identifier: MIT
import os
import sys

import lit.formats
from lit.llvm import llvm_config

config.name = "KeOps-MLIR"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".test"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.keops_obj_root, "test")
config.excludes = ["CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py"]

config.environment["FILECHECK_OPTS"] = "--enable-var-scope"
# Compiled kernels stay in the build tree (tests that need their own cache
# set KEOPS_CACHE_DIR themselves).
config.environment["KEOPS_CACHE_DIR"] = os.path.join(config.keops_obj_root,
                                                     "kernel-cache")
llvm_config.use_default_substitutions()
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)
llvm_config.add_tool_substitutions(["keops-aot", "keops-opt", "keops-run"],
                                   [config.keops_tools_dir])
config.substitutions.append(("%python", sys.executable))
config.excludes.append("Inputs")
config.substitutions.append(("%keops_lib_dir", os.path.join(config.keops_obj_root, "lib")))
config.substitutions.append(("%keops_include", os.path.join(config.keops_obj_root, "include")))
config.substitutions.append(("%keops_obj_root", config.keops_obj_root))
# mlir-runner runs modules lowered by keops-lower-to-llvm with the runtime
# and the upstream runner utils as shared libraries.
config.substitutions.append(("%mlir_runner_libs", ",".join([
    os.path.join(config.keops_obj_root, "lib", "libKeOpsRuntime.so"),
    os.path.join(config.llvm_lib_dir, "libmlir_runner_utils.so"),
    os.path.join(config.llvm_lib_dir, "libmlir_c_runner_utils.so")])))
config.substitutions.append(("%llvm_lib_dir", config.llvm_lib_dir))
config.substitutions.append(("%keops_src_root", config.keops_src_root))
config.substitutions.append(("%c_compiler", config.c_compiler))
config.substitutions.append(("%cxx_compiler", config.cxx_compiler))

# PTX is checked with ptxas when the CUDA toolkit has it (lit scrubs
# CUDA_HOME, so look in the usual place too).
for cuda in [os.environ.get("CUDA_HOME", ""), "/usr/local/cuda"]:
    ptxas = os.path.join(cuda, "bin", "ptxas") if cuda else ""
    if ptxas and os.access(ptxas, os.X_OK):
        config.available_features.add("ptxas")
        config.substitutions.append(("%ptxas", ptxas))
        break


def _has_gpu():
    """Whether the CUDA driver loads and sees a device (as the runtime does)."""
    import ctypes
    try:
        cuda = ctypes.CDLL("libcuda.so.1")
    except OSError:
        return False
    count = ctypes.c_int(0)
    return (cuda.cuInit(0) == 0 and cuda.cuDeviceGetCount(ctypes.byref(count)) == 0
            and count.value > 0)


config.substitutions.append(
    ("%fake_cuda", os.path.join(config.keops_obj_root, "test", "fake-cuda")))

# GPU execution tests run only where a GPU is usable.
# The GPU execution tests (%gpu_env before the command) run on the GPU where
# there is one, else on the GPU emulation: the compiler gives host kernels
# that the fake driver runs, one fiber per GPU thread, on 2 devices of
# 4 multiprocessors (include/keops/Target/GpuEmulation.h).
if _has_gpu():
    config.available_features.add("gpu")
    config.substitutions.append(("%gpu_env", ""))
else:
    config.available_features.add("gpu-emulation")
    config.substitutions.append(("%gpu_env", " ".join([
        "env", "LD_LIBRARY_PATH=" + os.path.join(config.keops_obj_root, "test",
                                                 "fake-cuda", "stub"),
        "FAKE_CUDA_DEVICE=90", "FAKE_CUDA_DEVICES=2", "FAKE_CUDA_SMS=4",
        "KEOPS_GPU_EMULATION=1"])))
