{
  "variables": {
    "kldm_openblas%": "<!(node -p \"process.env.KLDM_OPENBLAS || '0'\")",
    "kldm_dnnl%": "<!(node -p \"process.env.KLDM_DNNL || '0'\")",
    "kldm_march%": "<!(node -p \"process.env.KLDM_MARCH || 'native'\")"
  },
  "targets": [
    {
      "target_name": "kldm_native",
      "sources": ["native/addon.cc", "native/gemm.cc", "native/gemm_bf16.cc", "native/kernels.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_DISABLE_CPP_EXCEPTIONS", "NAPI_VERSION=8"],
      "cflags_cc": ["-std=gnu++17", "-O3", "-march=<(kldm_march)", "-fopenmp", "-fno-math-errno", "-fno-trapping-math"],
      "ldflags": ["-fopenmp", "-Wl,-z,nodelete"],
      "conditions": [
        ["kldm_openblas==1", { "defines": ["KLDM_HAVE_OPENBLAS"], "libraries": ["-lopenblas"] }],
        ["kldm_dnnl==1", { "defines": ["KLDM_HAVE_DNNL"], "libraries": ["-ldnnl"] }]
      ]
    }
  ]
}
