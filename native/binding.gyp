{
  "targets": [
    {
      "target_name": "mnist_onednn",
      "sources": [
        "src/addon.cc",
        "src/conv2d.cc",
        "src/matmul.cc",
        "src/pool.cc",
        "src/elementwise.cc",
        "src/reduce.cc",
        "src/softmax.cc",
        "src/batchnorm.cc",
        "src/dropout.cc",
        "src/shape_ops.cc",
        "src/optimizer.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_CPP_EXCEPTIONS"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++1y", "-std=gnu++17"],
      # -fno-math-errno: no kernel reads errno, and without it std::sqrt stays a scalar call that cannot vectorise.
      "cflags_cc": ["-std=c++17", "-fexceptions", "-O3", "-march=x86-64-v2", "-mtune=generic", "-ffp-contract=off", "-fno-trapping-math", "-fno-math-errno", "-fopenmp"],
      "ldflags": ["-fopenmp"],
      "libraries": ["-ldnnl", "-lgomp"]
    }
  ]
}
