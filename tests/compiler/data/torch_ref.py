"""The reference file of a torch-exported test fixture: the input and torch's output, rounded to 7
digits, as the C++ tests (test_graph.cpp) read them."""
import json

import torch


def write_ref(path, model, x):
    """Runs model on x without gradients and writes {input_shape, input, output_shape, output}."""
    with torch.no_grad():
        y = model(x)
    ref = {"input_shape": list(x.shape), "input": [round(v, 7) for v in x.flatten().tolist()],
           "output_shape": list(y.shape), "output": [round(v, 7) for v in y.flatten().tolist()]}
    with open(path, "w") as f:
        json.dump(ref, f)
