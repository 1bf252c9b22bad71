# keops/common/__init__.py - Code shared by keops.numpy and keops.torch.
# SPDX-License-Identifier: MIT
