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
llvm_config.add_tool_substitutions(["keops-opt", "keops-run"],
                                   [config.keops_tools_dir])
config.substitutions.append(("%python", sys.executable))
config.excludes.append("Inputs")
config.substitutions.append(("%keops_lib_dir", os.path.join(config.keops_obj_root, "lib")))
