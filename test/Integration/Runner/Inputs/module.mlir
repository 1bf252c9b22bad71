// A module in which keops reductions sit among func, arith, tensor, linalg
// and scf ops: keops-lower-to-llvm lowers it whole and mlir-runner runs it.
func.func private @printMemrefF32(memref<*xf32>) attributes {llvm.emit_c_interface}
func.func private @printMemrefI64(memref<*xi64>) attributes {llvm.emit_c_interface}

func.func @print(%t: tensor<3x1xf32>) {
  %m = bufferization.to_buffer %t : tensor<3x1xf32> to memref<3x1xf32>
  %u = memref.cast %m : memref<3x1xf32> to memref<*xf32>
  call @printMemrefF32(%u) : (memref<*xf32>) -> ()
  return
}

func.func @main() {
  %x = arith.constant dense<[[0.0, 0.0], [1.0, 0.0], [0.0, 2.0]]> : tensor<3x2xf32>
  %y = arith.constant dense<[[0.0, 1.5], [2.0, 0.0]]> : tensor<2x2xf32>
  // sum_j |x_i - y_j|^2: 2.25 + 4, 3.25 + 1, 0.25 + 8
  %s = keops.reduce sum over j (%xi = %x : i, %yj = %y : j)
      : (tensor<3x2xf32>, tensor<2x2xf32>) -> tensor<3x1xf32> {
    %d = keops.sqdist %xi, %yj : vector<2xf32>, vector<2xf32>
    keops.yield %d : vector<1xf32>
  }
  call @print(%s) : (tensor<3x1xf32>) -> ()

  // y doubled by linalg: (0, 3), (4, 0), of sum (4, 3)
  %empty = tensor.empty() : tensor<2x2xf32>
  %y2 = linalg.add ins(%y, %y : tensor<2x2xf32>, tensor<2x2xf32>)
                   outs(%empty : tensor<2x2xf32>) -> tensor<2x2xf32>
  // twice through an scf.for: x <- x + sum_j (x_i - y2_j) = 3 x - (4, 3);
  // x becomes (-4, -3), (-1, -3), (-4, 3), then (-16, -12), (-7, -12),
  // (-16, 12)
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %r = scf.for %k = %c0 to %c2 step %c1 iter_args(%acc = %x) -> tensor<3x2xf32> {
    %t = keops.reduce sum over j (%ai = %acc : i, %yj = %y2 : j)
        : (tensor<3x2xf32>, tensor<2x2xf32>) -> tensor<3x2xf32> {
      %w = keops.sub %ai, %yj : vector<2xf32>, vector<2xf32>
      keops.yield %w : vector<2xf32>
    }
    %next = arith.addf %acc, %t : tensor<3x2xf32>
    scf.yield %next : tensor<3x2xf32>
  }
  %first = tensor.extract_slice %r[0, 0] [3, 1] [1, 1] : tensor<3x2xf32> to tensor<3x1xf32>
  call @print(%first) : (tensor<3x1xf32>) -> ()

  // over i, the nearest x_i of each y_j: x_2 (0.25), x_1 (1)
  %i = keops.reduce argmin over i (%xi = %x : i, %yj = %y : j)
      : (tensor<3x2xf32>, tensor<2x2xf32>) -> tensor<2x1xi64> {
    %d = keops.sqdist %xi, %yj : vector<2xf32>, vector<2xf32>
    keops.yield %d : vector<1xf32>
  }
  %im = bufferization.to_buffer %i : tensor<2x1xi64> to memref<2x1xi64>
  %iu = memref.cast %im : memref<2x1xi64> to memref<*xi64>
  call @printMemrefI64(%iu) : (memref<*xi64>) -> ()
  return
}
