func.func @gaussian(%x: tensor<?x3xf32>, %y: tensor<?x3xf32>, %b: tensor<?x1xf32>) -> tensor<?x1xf32> {
  %r = keops.reduce sum over j (%xi = %x : i, %yj = %y : j, %bj = %b : j)
      : (tensor<?x3xf32>, tensor<?x3xf32>, tensor<?x1xf32>) -> tensor<?x1xf32> {
    %d = keops.sqdist %xi, %yj : vector<3xf32>, vector<3xf32>
    %n = keops.neg %d : vector<1xf32>
    %e = keops.exp %n : vector<1xf32>
    %v = keops.mul %e, %bj : vector<1xf32>, vector<1xf32>
    keops.yield %v : vector<1xf32>
  }
  return %r : tensor<?x1xf32>
}
