"""Images/s of one PyTorch training step of the zoo's CIFAR architectures, the reference of `pnpm bench`.

    python3 torch_step.py --models resnet20,resnet8x4 --batch 64 --steps 3 --threads 2

Prints one JSON object: {"torch": version, "threads": n, "results": {model: {"imagesPerSecond", "params"}}}.
The architectures are the zoo's (@kd/models): CIFAR ResNets (3x3 basic blocks, 1x1 projection shortcuts),
pre-activation Wide ResNets and MobileNetV2 at width 0.5, 100 classes, 32x32x3 inputs; `params` lets the
caller check that both sides build the same network. One step = forward in training mode, softmax
cross-entropy, backward, SGD update, timed after one warm-up step.
"""
import argparse
import json
import sys
import time

import torch
from torch import nn
import torch.nn.functional as F


class BasicBlock(nn.Module):
    def __init__(self, inputs, outputs, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(inputs, outputs, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(outputs)
        self.conv2 = nn.Conv2d(outputs, outputs, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(outputs)
        self.downsample = None
        if stride != 1 or inputs != outputs:
            self.downsample = nn.Sequential(nn.Conv2d(inputs, outputs, 1, stride, bias=False), nn.BatchNorm2d(outputs))

    def forward(self, x):
        hidden = F.relu(self.bn1(self.conv1(x)))
        residual = self.bn2(self.conv2(hidden))
        shortcut = x if self.downsample is None else self.downsample(x)
        return F.relu(residual + shortcut)


class CifarResNet(nn.Module):
    def __init__(self, depth, channels, classes):
        super().__init__()
        blocks = (depth - 2) // 6
        self.conv1 = nn.Conv2d(3, channels[0], 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels[0])
        layers = []
        inputs = channels[0]
        for stage in range(3):
            for index in range(blocks):
                stride = 2 if index == 0 and stage > 0 else 1
                layers.append(BasicBlock(inputs, channels[stage + 1], stride))
                inputs = channels[stage + 1]
        self.layers = nn.Sequential(*layers)
        self.fc = nn.Linear(inputs, classes)

    def forward(self, x):
        x = self.layers(F.relu(self.bn1(self.conv1(x))))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


class PreactBlock(nn.Module):
    def __init__(self, inputs, outputs, stride):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(inputs)
        self.conv1 = nn.Conv2d(inputs, outputs, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(outputs)
        self.conv2 = nn.Conv2d(outputs, outputs, 3, 1, 1, bias=False)
        self.shortcut = None if inputs == outputs else nn.Conv2d(inputs, outputs, 1, stride, bias=False)

    def forward(self, x):
        activated = F.relu(self.bn1(x))
        residual = self.conv2(F.relu(self.bn2(self.conv1(activated))))
        return residual + (x if self.shortcut is None else self.shortcut(activated))


class WideResNet(nn.Module):
    def __init__(self, depth, widen, classes):
        super().__init__()
        blocks = (depth - 4) // 6
        widths = [16, 16 * widen, 32 * widen, 64 * widen]
        self.conv1 = nn.Conv2d(3, 16, 3, 1, 1, bias=False)
        layers = []
        for group in range(3):
            for index in range(blocks):
                inputs = widths[group] if index == 0 else widths[group + 1]
                stride = 2 if index == 0 and group > 0 else 1
                layers.append(PreactBlock(inputs, widths[group + 1], stride))
        self.layers = nn.Sequential(*layers)
        self.bn1 = nn.BatchNorm2d(widths[3])
        self.fc = nn.Linear(widths[3], classes)

    def forward(self, x):
        x = F.relu(self.bn1(self.layers(self.conv1(x))))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


class InvertedResidual(nn.Module):
    def __init__(self, inputs, outputs, stride, expansion):
        super().__init__()
        hidden = inputs * expansion
        self.conv = nn.Sequential(
            nn.Conv2d(inputs, hidden, 1, bias=False), nn.BatchNorm2d(hidden), nn.ReLU(),
            nn.Conv2d(hidden, hidden, 3, stride, 1, groups=hidden, bias=False), nn.BatchNorm2d(hidden), nn.ReLU(),
            nn.Conv2d(hidden, outputs, 1, bias=False), nn.BatchNorm2d(outputs),
        )
        self.residual = stride == 1 and inputs == outputs

    def forward(self, x):
        return x + self.conv(x) if self.residual else self.conv(x)


class MobileNetV2(nn.Module):
    def __init__(self, classes, expansion=6, width=0.5):
        super().__init__()
        settings = [[1, 16, 1, 1], [expansion, 24, 2, 1], [expansion, 32, 3, 2], [expansion, 64, 4, 2],
                    [expansion, 96, 3, 1], [expansion, 160, 3, 2], [expansion, 320, 1, 1]]
        channels = int(32 * width)
        self.stem = nn.Sequential(nn.Conv2d(3, channels, 3, 2, 1, bias=False), nn.BatchNorm2d(channels), nn.ReLU())
        blocks = []
        for t, c, n, s in settings:
            outputs = int(c * width)
            for index in range(n):
                blocks.append(InvertedResidual(channels, outputs, s if index == 0 else 1, t))
                channels = outputs
        self.blocks = nn.Sequential(*blocks)
        last = int(1280 * width) if width > 1 else 1280
        self.head = nn.Sequential(nn.Conv2d(channels, last, 1, bias=False), nn.BatchNorm2d(last), nn.ReLU())
        self.classifier = nn.Linear(last, classes)

    def forward(self, x):
        x = self.head(self.blocks(self.stem(x)))
        return self.classifier(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


ARCHITECTURES = {
    'resnet20': lambda classes: CifarResNet(20, [16, 16, 32, 64], classes),
    'resnet8x4': lambda classes: CifarResNet(8, [32, 64, 128, 256], classes),
    'wrn16_2': lambda classes: WideResNet(16, 2, classes),
    'mobilenetv2': lambda classes: MobileNetV2(classes),
}


def images_per_second(name, batch, steps):
    torch.manual_seed(1)
    model = ARCHITECTURES[name](100)
    model.train()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    images = torch.randn(batch, 3, 32, 32)
    labels = torch.randint(0, 100, (batch,))

    def step():
        optimizer.zero_grad()
        loss = F.cross_entropy(model(images), labels)
        loss.backward()
        optimizer.step()
        return loss.item()

    step()
    started = time.perf_counter()
    for _ in range(steps):
        step()
    seconds = (time.perf_counter() - started) / steps
    return {'imagesPerSecond': batch / seconds, 'params': sum(p.numel() for p in model.parameters())}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--models', default=','.join(ARCHITECTURES))
    parser.add_argument('--batch', type=int, default=64)
    parser.add_argument('--steps', type=int, default=3)
    parser.add_argument('--threads', type=int, default=2)
    options = parser.parse_args()
    torch.set_num_threads(options.threads)
    names = options.models.split(',')
    unknown = [name for name in names if name not in ARCHITECTURES]
    if unknown:
        sys.exit(f"torch_step.py: unknown model(s) {', '.join(unknown)}; known: {', '.join(ARCHITECTURES)}")
    results = {name: images_per_second(name, options.batch, options.steps) for name in names}
    print(json.dumps({'torch': torch.__version__, 'threads': torch.get_num_threads(), 'results': results}))


if __name__ == '__main__':
    main()
