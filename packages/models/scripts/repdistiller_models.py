"""RepDistiller's CIFAR architectures in PyTorch (resnet.py, wrn.py, vgg.py, mobilenetv2.py, ShuffleNetv1.py,
ShuffleNetv2.py), written out with the same module names, so their state_dict keys and shapes are the ones the
published teachers carry and the ones @kd/models' zoo uses.

Shared by scripts/make-torch-fixtures.py (the checkpoint fixtures) and @kd/wasm-training's bench/torch_step.py
(the PyTorch reference step). `ARCHITECTURES[name](num_classes)` builds one.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F


# ----------------------------------------------------------------------------------------------- ResNet
class BasicBlock(nn.Module):
    def __init__(self, in_planes, planes, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = None
        if stride != 1 or in_planes != planes:
            self.downsample = nn.Sequential(nn.Conv2d(in_planes, planes, 1, stride, bias=False), nn.BatchNorm2d(planes))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        shortcut = x if self.downsample is None else self.downsample(x)
        return F.relu(out + shortcut)


class ResNet(nn.Module):
    def __init__(self, depth, channels, num_classes):
        super().__init__()
        n = (depth - 2) // 6
        self.conv1 = nn.Conv2d(3, channels[0], 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels[0])
        in_planes = channels[0]
        for stage in range(3):
            blocks = []
            for index in range(n):
                stride = 2 if index == 0 and stage > 0 else 1
                blocks.append(BasicBlock(in_planes, channels[stage + 1], stride))
                in_planes = channels[stage + 1]
            setattr(self, f'layer{stage + 1}', nn.Sequential(*blocks))
        self.fc = nn.Linear(in_planes, num_classes)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


# ------------------------------------------------------------------------------------------ Wide ResNet
class WideBlock(nn.Module):
    def __init__(self, in_planes, out_planes, stride):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(in_planes)
        self.conv1 = nn.Conv2d(in_planes, out_planes, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_planes)
        self.conv2 = nn.Conv2d(out_planes, out_planes, 3, 1, 1, bias=False)
        self.equal = in_planes == out_planes
        self.convShortcut = None if self.equal else nn.Conv2d(in_planes, out_planes, 1, stride, 0, bias=False)

    def forward(self, x):
        activated = F.relu(self.bn1(x))
        out = self.conv2(F.relu(self.bn2(self.conv1(activated))))
        return out + (x if self.equal else self.convShortcut(activated))


class NetworkBlock(nn.Module):
    def __init__(self, count, in_planes, out_planes, stride):
        super().__init__()
        self.layer = nn.Sequential(
            *[WideBlock(in_planes if i == 0 else out_planes, out_planes, stride if i == 0 else 1) for i in range(count)]
        )

    def forward(self, x):
        return self.layer(x)


class WideResNet(nn.Module):
    def __init__(self, depth, widen, num_classes):
        super().__init__()
        n = (depth - 4) // 6
        widths = [16, 16 * widen, 32 * widen, 64 * widen]
        self.conv1 = nn.Conv2d(3, 16, 3, 1, 1, bias=False)
        self.block1 = NetworkBlock(n, widths[0], widths[1], 1)
        self.block2 = NetworkBlock(n, widths[1], widths[2], 2)
        self.block3 = NetworkBlock(n, widths[2], widths[3], 2)
        self.bn1 = nn.BatchNorm2d(widths[3])
        self.fc = nn.Linear(widths[3], num_classes)

    def forward(self, x):
        x = self.block3(self.block2(self.block1(self.conv1(x))))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(F.relu(self.bn1(x)), 1), 1))


# ------------------------------------------------------------------------------------------------- VGG
class VGG(nn.Module):
    def __init__(self, config, num_classes):
        super().__init__()
        in_channels = 3
        for index, widths in enumerate(config):
            layers = []
            for width in widths:
                layers += [nn.Conv2d(in_channels, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU()]
                in_channels = width
            setattr(self, f'block{index}', nn.Sequential(*layers[:-1]))
        self.classifier = nn.Linear(in_channels, num_classes)

    def forward(self, x):
        height = x.shape[2]
        for index in range(5):
            if index > 0 and (index < 4 or height == 64):
                x = F.max_pool2d(x, 2)
            x = F.relu(getattr(self, f'block{index}')(x))
        return self.classifier(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


# ------------------------------------------------------------------------------------------ MobileNetV2
class InvertedResidual(nn.Module):
    def __init__(self, inp, oup, stride, expand):
        super().__init__()
        hidden = inp * expand
        self.residual = stride == 1 and inp == oup
        self.conv = nn.Sequential(
            nn.Conv2d(inp, hidden, 1, bias=False), nn.BatchNorm2d(hidden), nn.ReLU(),
            nn.Conv2d(hidden, hidden, 3, stride, 1, groups=hidden, bias=False), nn.BatchNorm2d(hidden), nn.ReLU(),
            nn.Conv2d(hidden, oup, 1, bias=False), nn.BatchNorm2d(oup),
        )

    def forward(self, x):
        return x + self.conv(x) if self.residual else self.conv(x)


class MobileNetV2(nn.Module):
    def __init__(self, expand, width, num_classes):
        super().__init__()
        settings = [[1, 16, 1, 1], [expand, 24, 2, 1], [expand, 32, 3, 2], [expand, 64, 4, 2],
                    [expand, 96, 3, 1], [expand, 160, 3, 2], [expand, 320, 1, 1]]
        channels = int(32 * width)
        self.conv1 = nn.Sequential(nn.Conv2d(3, channels, 3, 2, 1, bias=False), nn.BatchNorm2d(channels), nn.ReLU())
        self.blocks = nn.ModuleList()
        for t, c, n, s in settings:
            out = int(c * width)
            layers = []
            for index in range(n):
                layers.append(InvertedResidual(channels, out, s if index == 0 else 1, t))
                channels = out
            self.blocks.append(nn.Sequential(*layers))
        self.conv2 = nn.Sequential(nn.Conv2d(channels, 1280, 1, bias=False), nn.BatchNorm2d(1280), nn.ReLU())
        self.classifier = nn.Sequential(nn.Linear(1280, num_classes))

    def forward(self, x):
        x = self.conv1(x)
        for block in self.blocks:
            x = block(x)
        x = self.conv2(x)
        return self.classifier(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


# ------------------------------------------------------------------------------------------- ShuffleNets
def channel_shuffle(x, groups):
    n, c, h, w = x.shape
    return x.view(n, groups, c // groups, h, w).permute(0, 2, 1, 3, 4).reshape(n, c, h, w)


class ShuffleBottleneck(nn.Module):
    def __init__(self, in_planes, out_planes, stride, groups):
        super().__init__()
        mid = out_planes // 4
        self.first_groups = 1 if in_planes == 24 else groups
        self.stride = stride
        self.conv1 = nn.Conv2d(in_planes, mid, 1, groups=self.first_groups, bias=False)
        self.bn1 = nn.BatchNorm2d(mid)
        self.conv2 = nn.Conv2d(mid, mid, 3, stride, 1, groups=mid, bias=False)
        self.bn2 = nn.BatchNorm2d(mid)
        self.conv3 = nn.Conv2d(mid, out_planes, 1, groups=groups, bias=False)
        self.bn3 = nn.BatchNorm2d(out_planes)

    def forward(self, x):
        out = channel_shuffle(F.relu(self.bn1(self.conv1(x))), self.first_groups)
        out = self.bn3(self.conv3(F.relu(self.bn2(self.conv2(out)))))
        if self.stride == 2:
            return F.relu(torch.cat([out, F.avg_pool2d(x, 3, 2, 1)], 1))
        return F.relu(out + x)


class ShuffleNetV1(nn.Module):
    def __init__(self, num_classes, out_planes=(240, 480, 960), blocks=(4, 8, 4), groups=3):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 24, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(24)
        in_planes = 24
        for stage, (out, count) in enumerate(zip(out_planes, blocks)):
            layers = []
            for index in range(count):
                planes, stride = (out - in_planes, 2) if index == 0 else (out, 1)
                layers.append(ShuffleBottleneck(in_planes, planes, stride, groups))
                in_planes = out
            setattr(self, f'layer{stage + 1}', nn.Sequential(*layers))
        self.linear = nn.Linear(in_planes, num_classes)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.linear(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


class SplitBlock(nn.Module):
    def __init__(self, channels):
        super().__init__()
        half = channels // 2
        self.conv1 = nn.Conv2d(half, half, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(half)
        self.conv2 = nn.Conv2d(half, half, 3, 1, 1, groups=half, bias=False)
        self.bn2 = nn.BatchNorm2d(half)
        self.conv3 = nn.Conv2d(half, half, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(half)

    def forward(self, x):
        x1, x2 = x.chunk(2, 1)
        out = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x2)))))
        out = F.relu(self.bn3(self.conv3(out)))
        return channel_shuffle(torch.cat([x1, out], 1), 2)


class DownBlock(nn.Module):
    def __init__(self, in_channels, out_channels):
        super().__init__()
        mid = out_channels // 2
        self.conv1 = nn.Conv2d(in_channels, in_channels, 3, 2, 1, groups=in_channels, bias=False)
        self.bn1 = nn.BatchNorm2d(in_channels)
        self.conv2 = nn.Conv2d(in_channels, mid, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(mid)
        self.conv3 = nn.Conv2d(in_channels, mid, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(mid)
        self.conv4 = nn.Conv2d(mid, mid, 3, 2, 1, groups=mid, bias=False)
        self.bn4 = nn.BatchNorm2d(mid)
        self.conv5 = nn.Conv2d(mid, mid, 1, bias=False)
        self.bn5 = nn.BatchNorm2d(mid)

    def forward(self, x):
        left = F.relu(self.bn2(self.conv2(self.bn1(self.conv1(x)))))
        right = F.relu(self.bn3(self.conv3(x)))
        right = F.relu(self.bn5(self.conv5(self.bn4(self.conv4(right)))))
        return channel_shuffle(torch.cat([left, right], 1), 2)


class ShuffleNetV2(nn.Module):
    def __init__(self, num_classes, out_channels=(116, 232, 464), last=1024, blocks=(3, 7, 3)):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 24, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(24)
        in_channels = 24
        for stage, (out, count) in enumerate(zip(out_channels, blocks)):
            layers = [DownBlock(in_channels, out)] + [SplitBlock(out) for _ in range(count)]
            in_channels = out
            setattr(self, f'layer{stage + 1}', nn.Sequential(*layers))
        self.conv2 = nn.Conv2d(in_channels, last, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(last)
        self.linear = nn.Linear(last, num_classes)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        x = F.relu(self.bn2(self.conv2(x)))
        return self.linear(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


ARCHITECTURES = {
    'resnet8': lambda k: ResNet(8, [16, 16, 32, 64], k),
    'resnet20': lambda k: ResNet(20, [16, 16, 32, 64], k),
    'resnet8x4': lambda k: ResNet(8, [32, 64, 128, 256], k),
    'resnet32x4': lambda k: ResNet(32, [32, 64, 128, 256], k),
    'wrn16_2': lambda k: WideResNet(16, 2, k),
    'vgg8': lambda k: VGG([[64], [128], [256], [512], [512]], k),
    'mobilenetv2': lambda k: MobileNetV2(6, 0.5, k),
    'shufflev1': lambda k: ShuffleNetV1(k),
    'shufflev2': lambda k: ShuffleNetV2(k),
}
