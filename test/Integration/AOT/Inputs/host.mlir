// A host function with a reduction among other ops, and a kernel function:
// keops-aot --module makes a kernel of each (use_module.c calls them).
func.func @shifted_min(%x: tensor<?x3xf32>, %y: tensor<?x3xf32>) -> tensor<?x1xf32> {
  %two = arith.constant dense<2.0> : tensor<3xf32>
  %r = keops.reduce min over j (%xi = %x : i, %yj = %y : j, %s = %two : param)
      : (tensor<?x3xf32>, tensor<?x3xf32>, tensor<3xf32>) -> tensor<?x1xf32> {
    %t = keops.add %yj, %s : vector<3xf32>, vector<3xf32>
    %d = keops.sqdist %xi, %t : vector<3xf32>, vector<3xf32>
    keops.yield %d : vector<1xf32>
  }
  return %r : tensor<?x1xf32>
}
func.func @gauss(%x: tensor<?x3xf64> {keops.name = "x"}, %y: tensor<?x3xf64> {keops.name = "y"}) -> tensor<?x1xf64> {
  %r = keops.reduce sum over j (%xi = %x : i, %yj = %y : j)
      : (tensor<?x3xf64>, tensor<?x3xf64>) -> tensor<?x1xf64> {
    %d = keops.sqdist %xi, %yj : vector<3xf64>, vector<3xf64>
    %n = keops.neg %d : vector<1xf64>
    %e = keops.exp %n : vector<1xf64>
    keops.yield %e : vector<1xf64>
  }
  return %r : tensor<?x1xf64>
}
