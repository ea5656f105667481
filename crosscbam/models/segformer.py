"""SegFormer-B0, a Table 2 rival (Xie et al., "SegFormer: Simple and Efficient Design for Semantic
Segmentation with Transformers", NeurIPS 2021; Sec. 3, Fig. 2, Eq. 1-4, Appendix Table 6).

The Mix Transformer encoder MiT-B0 and the all-MLP decoder, as the authors' code
(github.com/NVlabs/SegFormer, ``mmseg/models/backbones/mix_transformer.py`` and
``decode_heads/segformer_head.py``) and PaddleSeg 2.8's ``SegFormer`` + ``MixVisionTransformer_B0``
lay them out:

* four stages with widths 32, 64, 160, 256, two blocks each, 1, 2, 5, 8 heads and
  sequence-reduction ratios 8, 4, 2, 1 (Table 6); overlapping patch embeddings (7x7 stride 4, then
  3x3 stride 2; conv with bias + LayerNorm); each block: LayerNorm -> efficient self-attention
  (Eq. 2: keys and values from a ``ratio``-strided conv + LayerNorm of the tokens) -> residual,
  LayerNorm -> Mix-FFN (Eq. 3: linear to 4C, depthwise 3x3 conv, GELU, linear) -> residual; a
  LayerNorm closes every stage;
* decoder (Eq. 4): a linear layer with bias maps each stage to 256 channels, all are upsampled to
  1/4 and concatenated (deepest first), fused by a 1x1 conv + BN + ReLU, then dropout and a 1x1
  classifier.

Stochastic depth and dropout (training-only) are left out; the classifier's dropout follows the
package's :class:`~crosscbam.models.heads.Classifier`.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from crosscbam.models.heads import Classifier, resize
from crosscbam.models.layers import ConvBlock

#: MiT-B0 (Table 6): widths, blocks, heads and sequence-reduction ratios of the four stages.
MIT_B0_WIDTHS = (32, 64, 160, 256)
MIT_B0_DEPTHS = (2, 2, 2, 2)
MIT_B0_HEADS = (1, 2, 5, 8)
MIT_B0_REDUCTIONS = (8, 4, 2, 1)
MLP_RATIO = 4
#: Decoder width of SegFormer-B0 (``embedding_dim`` / ``channels``).
DECODER_CHANNELS = 256
#: LayerNorm epsilon of the authors' code.
LN_EPS = 1e-6


class EfficientSelfAttention(nn.Module):
    """Multi-head self-attention whose keys and values come from a sequence reduced by ``ratio``
    (Eq. 2): a ``ratio x ratio`` stride-``ratio`` conv + LayerNorm over the token grid."""

    def __init__(self, channels: int, heads: int, ratio: int) -> None:
        super().__init__()
        self.heads = heads
        self.q = nn.Linear(channels, channels)
        self.kv = nn.Linear(channels, channels * 2)
        self.proj = nn.Linear(channels, channels)
        if ratio > 1:
            self.reduce: nn.Module | None = nn.Conv2d(channels, channels, ratio, stride=ratio)
            self.norm: nn.Module | None = nn.LayerNorm(channels, eps=LN_EPS)
        else:
            self.reduce = self.norm = None

    def forward(self, x: Tensor, height: int, width: int) -> Tensor:
        batch, tokens, channels = x.shape
        head_dim = channels // self.heads
        q = self.q(x).reshape(batch, tokens, self.heads, head_dim).transpose(1, 2)
        source = x
        if self.reduce is not None:
            grid = x.transpose(1, 2).reshape(batch, channels, height, width)
            source = self.norm(self.reduce(grid).flatten(2).transpose(1, 2))
        k, v = self.kv(source).reshape(batch, -1, 2, self.heads, head_dim).permute(2, 0, 3, 1, 4)
        # Written out (not scaled_dot_product_attention) so that FLOP counters see both matmuls.
        weights = torch.softmax((q @ k.transpose(-2, -1)) * head_dim**-0.5, dim=-1)
        return self.proj((weights @ v).transpose(1, 2).reshape(batch, tokens, channels))


class MixFFN(nn.Module):
    """Mix-FFN (Eq. 3): linear to ``ratio * C``, depthwise 3x3 conv, GELU, linear back to C."""

    def __init__(self, channels: int, ratio: int = MLP_RATIO) -> None:
        super().__init__()
        hidden = channels * ratio
        self.fc1 = nn.Linear(channels, hidden)
        self.dwconv = nn.Conv2d(hidden, hidden, 3, padding=1, groups=hidden)
        self.fc2 = nn.Linear(hidden, channels)

    def forward(self, x: Tensor, height: int, width: int) -> Tensor:
        x = self.fc1(x)
        batch, tokens, hidden = x.shape
        x = self.dwconv(x.transpose(1, 2).reshape(batch, hidden, height, width)).flatten(2).transpose(1, 2)
        return self.fc2(nn.functional.gelu(x))


class TransformerBlock(nn.Module):
    """Pre-norm block: ``x + attention(LN(x))``, then ``x + MixFFN(LN(x))``."""

    def __init__(self, channels: int, heads: int, ratio: int) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(channels, eps=LN_EPS)
        self.attention = EfficientSelfAttention(channels, heads, ratio)
        self.norm2 = nn.LayerNorm(channels, eps=LN_EPS)
        self.ffn = MixFFN(channels)

    def forward(self, x: Tensor, height: int, width: int) -> Tensor:
        x = x + self.attention(self.norm1(x), height, width)
        return x + self.ffn(self.norm2(x), height, width)


class MixStage(nn.Module):
    """Overlapping patch embedding (conv + LayerNorm), transformer blocks, closing LayerNorm;
    maps a ``(B, C_in, H, W)`` map to ``(B, C, H / stride, W / stride)``."""

    def __init__(self, in_channels: int, channels: int, patch: int, stride: int, depth: int, heads: int, ratio: int) -> None:
        super().__init__()
        self.embed = nn.Conv2d(in_channels, channels, patch, stride=stride, padding=patch // 2)
        self.embed_norm = nn.LayerNorm(channels, eps=LN_EPS)
        self.blocks = nn.ModuleList([TransformerBlock(channels, heads, ratio) for _ in range(depth)])
        self.norm = nn.LayerNorm(channels, eps=LN_EPS)

    def forward(self, x: Tensor) -> Tensor:
        x = self.embed(x)
        batch, channels, height, width = x.shape
        x = self.embed_norm(x.flatten(2).transpose(1, 2))
        for block in self.blocks:
            x = block(x, height, width)
        return self.norm(x).transpose(1, 2).reshape(batch, channels, height, width)


class MixTransformer(nn.Module):
    """MiT encoder; returns the four stage outputs at 1/4, 1/8, 1/16, 1/32."""

    def __init__(
        self,
        widths: tuple[int, ...] = MIT_B0_WIDTHS,
        depths: tuple[int, ...] = MIT_B0_DEPTHS,
        heads: tuple[int, ...] = MIT_B0_HEADS,
        reductions: tuple[int, ...] = MIT_B0_REDUCTIONS,
    ) -> None:
        super().__init__()
        stages, prev = [], 3
        for index, (width, depth, head, ratio) in enumerate(zip(widths, depths, heads, reductions)):
            patch, stride = (7, 4) if index == 0 else (3, 2)
            stages.append(MixStage(prev, width, patch, stride, depth, head, ratio))
            prev = width
        self.stages = nn.ModuleList(stages)
        self.out_channels = widths

    def forward(self, x: Tensor) -> list[Tensor]:
        features = []
        for stage in self.stages:
            x = stage(x)
            features.append(x)
        return features


class AllMLPHead(nn.Module):
    """All-MLP decoder (Eq. 4): per-stage linear to ``channels``, upsample to 1/4, concat (deepest
    first), 1x1 conv + BN + ReLU, classifier; logits at 1/4."""

    def __init__(self, in_channels: tuple[int, ...], num_classes: int, channels: int = DECODER_CHANNELS) -> None:
        super().__init__()
        self.linears = nn.ModuleList([nn.Linear(c, channels) for c in in_channels])
        self.fuse = ConvBlock(channels * len(in_channels), channels, 1)
        self.classifier = Classifier(channels, num_classes)

    def forward(self, features: list[Tensor]) -> Tensor:
        size = features[0].shape[2:]
        projected = []
        for feature, linear in zip(features, self.linears):
            batch, _, height, width = feature.shape
            mapped = linear(feature.flatten(2).transpose(1, 2)).transpose(1, 2).reshape(batch, -1, height, width)
            projected.append(resize(mapped, size))
        return self.classifier(self.fuse(torch.cat(projected[::-1], dim=1)))


def segformer_b0(num_classes: int) -> tuple[MixTransformer, AllMLPHead]:
    """MiT-B0 and the 256-channel all-MLP decoder."""
    encoder = MixTransformer()
    return encoder, AllMLPHead(encoder.out_channels, num_classes)
