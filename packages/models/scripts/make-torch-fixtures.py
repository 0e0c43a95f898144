#!/usr/bin/env python3
"""Writes the PyTorch checkpoint fixtures of @kd/models' checkpoint tests, and checks a safetensors file
written by @kd/models against PyTorch.

The architectures (repdistiller_models.py, next to this script) are RepDistiller's CIFAR models, written out
with the same module names, so their state_dict keys and shapes are the ones the published teachers carry and
the ones the zoo uses.

Every weight is a small integer times a power of two, exactly representable in float16 and bfloat16, so
the fixtures saved in those dtypes hold the same values as the float32 model whose logits are recorded.
Every fixture is gzip-compressed (the weights take few distinct values, so they compress well).

Usage (Debian: apt-get install python3-torch; no other package needed):
  python3 scripts/make-torch-fixtures.py write [output-directory]      # default src/__fixtures__/torch
  python3 scripts/make-torch-fixtures.py check MODEL FILE.safetensors   # load into PyTorch, compare logits
  python3 scripts/make-torch-fixtures.py bench-checkpoint FILE.pth      # a random resnet32x4 (zip format)
"""
import collections
import gzip
import io
import json
import math
import os
import struct
import sys

import numpy
import torch
import torch.nn as nn

from repdistiller_models import ARCHITECTURES

NUM_CLASSES = 10
INPUT_SHAPE = (2, 3, 16, 16)


# How each fixture is saved: storage dtype of the zip and legacy checkpoints and of the safetensors file.
FIXTURES = {
    'resnet8': ('float32', 'float32', 'float32'),
    'resnet20': ('float32', 'float64', 'bfloat16'),
    'resnet8x4': ('float32', 'float32', 'float16'),
    'wrn16_2': ('float16', 'float32', 'float32'),
    'vgg8': ('float32', 'bfloat16', 'float32'),
    'mobilenetv2': ('bfloat16', 'float32', 'float64'),
    'shufflev1': ('float32', 'float16', 'float32'),
    'shufflev2': ('float64', 'float32', 'float32'),
}

SAFETENSORS_DTYPES = {
    torch.float64: 'F64', torch.float32: 'F32', torch.float16: 'F16', torch.bfloat16: 'BF16',
    torch.int64: 'I64', torch.int32: 'I32',
}


def dyadic(generator, shape, low, high, exponent):
    """Integers uniform in [low, high] times 2**exponent: exact in float16, bfloat16 and float32."""
    integers = torch.randint(low, high + 1, shape, generator=generator, dtype=torch.int64)
    return integers.to(torch.float32) * (2.0 ** exponent)


def randomize(model, seed):
    """Random weights scaled by fan-in, BN affine parameters and running statistics away from 1 and 0."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, module in model.named_modules():
            if isinstance(module, (nn.Conv2d, nn.Linear)):
                fan_in = module.weight[0].numel()
                exponent = -round(math.log2(math.sqrt(fan_in))) - 1
                module.weight.copy_(dyadic(generator, module.weight.shape, -3, 3, exponent))
                if module.bias is not None:
                    module.bias.copy_(dyadic(generator, module.bias.shape, -8, 8, -6))
            elif isinstance(module, nn.BatchNorm2d):
                channels = module.num_features
                module.weight.copy_(1 + dyadic(generator, (channels,), -8, 8, -5))
                module.bias.copy_(dyadic(generator, (channels,), -8, 8, -5))
                module.running_mean.copy_(dyadic(generator, (channels,), -8, 8, -5))
                module.running_var.copy_(1 + dyadic(generator, (channels,), -8, 8, -5))
                module.num_batches_tracked.fill_(int(torch.randint(1, 1000, (1,), generator=generator)))
    model.eval()


def fixed_input():
    """x[n, c, h, w] = ((7n + 13c + 17h + 19w) mod 23)/11 − 1, in float32."""
    n, c, h, w = torch.meshgrid(*[torch.arange(size) for size in INPUT_SHAPE], indexing='ij')
    return (((7 * n + 13 * c + 17 * h + 19 * w) % 23).to(torch.float64) / 11 - 1).to(torch.float32)


def build(name, seed):
    torch.manual_seed(seed)
    model = ARCHITECTURES[name](NUM_CLASSES)
    randomize(model, seed)
    return model


def cast_state_dict(state_dict, dtype):
    """Floating tensors in `dtype` (the values are exact in it), integers (num_batches_tracked) kept."""
    result = collections.OrderedDict()
    for key, value in state_dict.items():
        result[key] = value.to(getattr(torch, dtype)) if value.is_floating_point() else value
    result._metadata = getattr(state_dict, '_metadata', None)
    return result


def safetensors_bytes(tensors, metadata):
    """The safetensors layout: u64 little-endian header length, JSON header (space-padded to 8), raw data."""
    header = {'__metadata__': metadata}
    chunks = []
    offset = 0
    for key, tensor in tensors.items():
        tensor = tensor.detach().contiguous()
        data = tensor.view(torch.uint8).numpy().tobytes() if tensor.dim() > 0 else tensor.reshape(1).view(torch.uint8).numpy().tobytes()
        header[key] = {'dtype': SAFETENSORS_DTYPES[tensor.dtype], 'shape': list(tensor.shape), 'data_offsets': [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(',', ':')).encode('utf-8')
    text += b' ' * (-len(text) % 8)
    return struct.pack('<Q', len(text)) + text + b''.join(chunks)


def read_safetensors(data):
    (length,) = struct.unpack('<Q', data[:8])
    header = json.loads(data[8:8 + length])
    body = data[8 + length:]
    dtypes = {code: dtype for dtype, code in SAFETENSORS_DTYPES.items()}
    tensors = collections.OrderedDict()
    for key, entry in header.items():
        if key == '__metadata__':
            continue
        begin, end = entry['data_offsets']
        raw = bytearray(body[begin:end])
        tensor = torch.frombuffer(raw, dtype=dtypes[entry['dtype']]) if raw else torch.empty(0, dtype=dtypes[entry['dtype']])
        tensors[key] = tensor.reshape(entry['shape']).clone()
    return tensors


def torch_save_bytes(obj, legacy):
    buffer = io.BytesIO()
    torch.save(obj, buffer, _use_new_zipfile_serialization=not legacy)
    return buffer.getvalue()


def write_gzip(path, data):
    # mtime 0: the same inputs give the same bytes.
    with open(path, 'wb') as raw, gzip.GzipFile(fileobj=raw, mode='wb', compresslevel=9, mtime=0) as file:
        file.write(data)


def write(directory):
    os.makedirs(directory, exist_ok=True)
    x = fixed_input()
    manifest = {'input': {'shape': list(INPUT_SHAPE), 'layout': 'NCHW', 'values': x.flatten().tolist()}, 'numClasses': NUM_CLASSES, 'models': {}}
    for seed, (name, (zip_dtype, legacy_dtype, safetensors_dtype)) in enumerate(FIXTURES.items()):
        model = build(name, seed + 1)
        with torch.no_grad():
            logits = model(x)
        # RepDistiller's train_teacher.py: {'epoch', 'model', 'accuracy', 'optimizer'}; the accuracy is a
        # tensor in the zip checkpoint and a numpy scalar in the legacy one.
        optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)
        if name == 'resnet8':
            # One step, so the optimizer state carries momentum buffers (tensors the loader must skip).
            saved = state_dict_copy(model.state_dict())
            model.train()
            model(x).logsumexp(1).mean().backward()
            optimizer.step()
            optimizer.zero_grad()
            generator = torch.Generator().manual_seed(seed)
            with torch.no_grad():
                for state in optimizer.state.values():
                    state['momentum_buffer'].copy_(dyadic(generator, state['momentum_buffer'].shape, -3, 3, -8))
            model.load_state_dict(saved)
            model.eval()
        state_dict = model.state_dict()
        zip_checkpoint = {'epoch': 240, 'model': cast_state_dict(state_dict, zip_dtype), 'accuracy': torch.tensor(71.5), 'optimizer': optimizer.state_dict()}
        legacy_state = cast_state_dict(state_dict, legacy_dtype)
        if name == 'resnet20':
            # nn.DataParallel's `module.` prefix.
            legacy_state = collections.OrderedDict((f'module.{key}', value) for key, value in legacy_state.items())
        legacy_checkpoint = {'epoch': 240, 'model': legacy_state, 'accuracy': numpy.float64(71.5), 'optimizer': optimizer.state_dict()}
        files = {
            'zip': (f'{name}.zip.pth.gz', torch_save_bytes(zip_checkpoint, legacy=False)),
            'legacy': (f'{name}.legacy.pth.gz', torch_save_bytes(legacy_checkpoint, legacy=True)),
            'safetensors': (f'{name}.safetensors.gz', safetensors_bytes(cast_state_dict(state_dict, safetensors_dtype), {'format': 'pt'})),
        }
        if name == 'resnet8':
            files['bare'] = ('resnet8.bare.pth.gz', torch_save_bytes(state_dict, legacy=False))
            files['state_dict'] = ('resnet8.state-dict.legacy.pth.gz', torch_save_bytes({'state_dict': state_dict, 'arch': 'resnet8'}, legacy=True))
        for _, (file, data) in files.items():
            write_gzip(os.path.join(directory, file), data)
        # Each file, read back by PyTorch, gives the recorded logits.
        for kind, (file, data) in files.items():
            loaded = read_safetensors(data) if kind == 'safetensors' else torch.load(io.BytesIO(data))
            if kind in ('zip', 'legacy'):
                loaded = loaded['model']
            elif kind == 'state_dict':
                loaded = loaded['state_dict']
            loaded = {key.removeprefix('module.'): value for key, value in loaded.items()}
            check = build(name, 1000)
            check.load_state_dict({key: value.float() if value.is_floating_point() else value for key, value in loaded.items()})
            with torch.no_grad():
                difference = (check(x) - logits).abs().max().item()
            assert difference == 0, f'{file}: logits differ by {difference}'
        parameters = sum(parameter.numel() for parameter in model.parameters())
        manifest['models'][name] = {
            'parameters': parameters,
            'files': {kind: {'file': file, 'dtype': {'zip': zip_dtype, 'legacy': legacy_dtype, 'safetensors': safetensors_dtype}.get(kind, 'float32')} for kind, (file, _) in files.items()},
            'logits': logits.flatten().tolist(),
        }
        print(f'{name}: {parameters} parameters, logits[0,:3] = {logits[0, :3].tolist()}')
    with open(os.path.join(directory, 'manifest.json'), 'w') as file:
        json.dump(manifest, file, indent=1)
        file.write('\n')


def state_dict_copy(state_dict):
    return collections.OrderedDict((key, value.clone()) for key, value in state_dict.items())


def check(name, path):
    """Loads a safetensors file written by @kd/models into the PyTorch model, strict, and prints its logits."""
    with open(path, 'rb') as file:
        tensors = read_safetensors(file.read())
    model = ARCHITECTURES[name](NUM_CLASSES)
    result = model.load_state_dict(tensors, strict=True)
    model.eval()
    with torch.no_grad():
        logits = model(fixed_input())
    print(f'{path}: load_state_dict(strict=True): {result}')
    manifest_path = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'src', '__fixtures__', 'torch', 'manifest.json')
    with open(manifest_path) as file:
        reference = torch.tensor(json.load(file)['models'][name]['logits'])
    difference = (logits.flatten() - reference).abs().max().item()
    print(f'{name}: max |logit difference| against the fixture logits {difference:.3g} (logit scale {reference.abs().max().item():.3g})')


def bench_checkpoint(path):
    model = ARCHITECTURES['resnet32x4'](100)
    randomize(model, 7)
    torch.save({'epoch': 240, 'model': model.state_dict(), 'accuracy': torch.tensor(79.4)}, path)
    print(f'{path}: resnet32x4, {sum(p.numel() for p in model.parameters())} parameters')


if __name__ == '__main__':
    command = sys.argv[1] if len(sys.argv) > 1 else 'write'
    if command == 'write':
        write(sys.argv[2] if len(sys.argv) > 2 else os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'src', '__fixtures__', 'torch'))
    elif command == 'check':
        check(sys.argv[2], sys.argv[3])
    elif command == 'bench-checkpoint':
        bench_checkpoint(sys.argv[2])
    else:
        sys.exit(f'unknown command {command!r}; see the docstring')
