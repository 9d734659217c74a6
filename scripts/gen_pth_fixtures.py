#!/usr/bin/python3
"""Generate the Real-ESRGAN format fixtures in tests/fixtures/realesrgan/ (run once, commit the output).

Needs Debian's python3-torch (1.13) and numpy: run with /usr/bin/python3, not pyenv's python3.

    /usr/bin/python3 scripts/gen_pth_fixtures.py [OUTPUT_DIR]

RRDBNet and SRVGGNetCompact are written here from the published architectures (BasicSR's
rrdbnet_arch.py, Real-ESRGAN's srvgg_arch.py) so that the state-dict key names, the
pixel-unshuffle input of the x2 model and the nearest-upsampled residual of SRVGG are exactly
what the C++ loaders meet in the real weight files. The models are tiny and random so the
fixtures stay small; the C++ tests compare their output with the references computed here.
Everything is seeded, so re-running reproduces the same files byte for byte on the same torch.
"""
import json
from copy import deepcopy
import os
import struct
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def pixel_unshuffle(x, scale):
    b, c, hh, hw = x.size()
    h, w = hh // scale, hw // scale
    x = x.view(b, c, h, scale, w, scale)
    return x.permute(0, 1, 3, 5, 2, 4).reshape(b, c * scale * scale, h, w)


class ResidualDenseBlock(nn.Module):
    def __init__(self, num_feat, num_grow_ch):
        super().__init__()
        self.conv1 = nn.Conv2d(num_feat, num_grow_ch, 3, 1, 1)
        self.conv2 = nn.Conv2d(num_feat + num_grow_ch, num_grow_ch, 3, 1, 1)
        self.conv3 = nn.Conv2d(num_feat + 2 * num_grow_ch, num_grow_ch, 3, 1, 1)
        self.conv4 = nn.Conv2d(num_feat + 3 * num_grow_ch, num_grow_ch, 3, 1, 1)
        self.conv5 = nn.Conv2d(num_feat + 4 * num_grow_ch, num_feat, 3, 1, 1)
        self.lrelu = nn.LeakyReLU(negative_slope=0.2, inplace=True)

    def forward(self, x):
        x1 = self.lrelu(self.conv1(x))
        x2 = self.lrelu(self.conv2(torch.cat((x, x1), 1)))
        x3 = self.lrelu(self.conv3(torch.cat((x, x1, x2), 1)))
        x4 = self.lrelu(self.conv4(torch.cat((x, x1, x2, x3), 1)))
        x5 = self.conv5(torch.cat((x, x1, x2, x3, x4), 1))
        return x5 * 0.2 + x


class RRDB(nn.Module):
    def __init__(self, num_feat, num_grow_ch):
        super().__init__()
        self.rdb1 = ResidualDenseBlock(num_feat, num_grow_ch)
        self.rdb2 = ResidualDenseBlock(num_feat, num_grow_ch)
        self.rdb3 = ResidualDenseBlock(num_feat, num_grow_ch)

    def forward(self, x):
        return self.rdb3(self.rdb2(self.rdb1(x))) * 0.2 + x


class RRDBNet(nn.Module):
    def __init__(self, num_in_ch=3, num_out_ch=3, scale=4, num_feat=64, num_block=23, num_grow_ch=32):
        super().__init__()
        self.scale = scale
        if scale == 2:
            num_in_ch *= 4
        elif scale == 1:
            num_in_ch *= 16
        self.conv_first = nn.Conv2d(num_in_ch, num_feat, 3, 1, 1)
        self.body = nn.Sequential(*[RRDB(num_feat, num_grow_ch) for _ in range(num_block)])
        self.conv_body = nn.Conv2d(num_feat, num_feat, 3, 1, 1)
        self.conv_up1 = nn.Conv2d(num_feat, num_feat, 3, 1, 1)
        self.conv_up2 = nn.Conv2d(num_feat, num_feat, 3, 1, 1)
        self.conv_hr = nn.Conv2d(num_feat, num_feat, 3, 1, 1)
        self.conv_last = nn.Conv2d(num_feat, num_out_ch, 3, 1, 1)
        self.lrelu = nn.LeakyReLU(negative_slope=0.2, inplace=True)

    def forward(self, x):
        if self.scale == 2:
            feat = pixel_unshuffle(x, scale=2)
        elif self.scale == 1:
            feat = pixel_unshuffle(x, scale=4)
        else:
            feat = x
        feat = self.conv_first(feat)
        feat = feat + self.conv_body(self.body(feat))
        feat = self.lrelu(self.conv_up1(F.interpolate(feat, scale_factor=2, mode='nearest')))
        feat = self.lrelu(self.conv_up2(F.interpolate(feat, scale_factor=2, mode='nearest')))
        return self.conv_last(self.lrelu(self.conv_hr(feat)))


class SRVGGNetCompact(nn.Module):
    def __init__(self, num_in_ch=3, num_out_ch=3, num_feat=64, num_conv=16, upscale=4):
        super().__init__()
        self.upscale = upscale
        self.body = nn.ModuleList()
        self.body.append(nn.Conv2d(num_in_ch, num_feat, 3, 1, 1))
        self.body.append(nn.PReLU(num_parameters=num_feat))
        for _ in range(num_conv):
            self.body.append(nn.Conv2d(num_feat, num_feat, 3, 1, 1))
            self.body.append(nn.PReLU(num_parameters=num_feat))
        self.body.append(nn.Conv2d(num_feat, num_out_ch * upscale * upscale, 3, 1, 1))
        self.upsampler = nn.PixelShuffle(upscale)

    def forward(self, x):
        out = x
        for layer in self.body:
            out = layer(out)
        out = self.upsampler(out)
        return out + F.interpolate(x, scale_factor=self.upscale, mode='nearest')


def run_like_realesrgan(model, x, mod):
    """Real-ESRGAN's inference pads right/bottom by reflection to a multiple of the unshuffle
    factor and crops the output back; the C++ networks do the same, so the reference does too."""
    h, w = x.shape[2], x.shape[3]
    ph, pw = (-h) % mod, (-w) % mod
    if ph or pw:
        x = F.pad(x, (0, pw, 0, ph), mode='reflect')
    with torch.no_grad():
        y = model(x)
    s = y.shape[2] // x.shape[2]
    return y[:, :, :h * s, :w * s]


def randomize(model, seed):
    """Default init leaves PReLU slopes all 0.25; per-channel slopes catch index mix-ups."""
    torch.manual_seed(seed)
    for m in model.modules():
        if isinstance(m, nn.PReLU):
            with torch.no_grad():
                m.weight.uniform_(0.05, 0.5)
    return model.eval()


def save_npy(path, t):
    np.save(path, t.detach().to(torch.float32).contiguous().numpy())


SAFETENSORS_DTYPES = {torch.float32: 'F32', torch.float16: 'F16', torch.bfloat16: 'BF16'}


def save_safetensors(path, state_dict, dtype):
    """The format by hand: u64 little-endian header length, JSON header, raw tensor bytes."""
    header, blobs, offset = {'__metadata__': {'format': 'pt'}}, [], 0
    for name in sorted(state_dict):
        t = state_dict[name].detach().to(dtype).contiguous()
        raw = t.view(torch.int16).numpy().tobytes() if dtype == torch.bfloat16 else t.numpy().tobytes()
        header[name] = {'dtype': SAFETENSORS_DTYPES[dtype], 'shape': list(t.shape),
                        'data_offsets': [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(',', ':')).encode()
    text += b' ' * ((-len(text)) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(text)))
        f.write(text)
        for raw in blobs:
            f.write(raw)


def rounded(model, dtype):
    """The same model with its weights rounded through dtype: what a loader of that file sees."""
    copy = deepcopy(model)
    copy.load_state_dict({k: v.to(dtype).to(torch.float32) for k, v in model.state_dict().items()})
    return copy


def strided_views(state_dict):
    """Store some tensors as views (storage offset, odd strides, a shared storage) as torch.save
    keeps them, so the pickle reader's offset/stride handling is exercised."""
    out = dict(state_dict)
    names = [k for k in state_dict if k.endswith('.weight') and state_dict[k].dim() == 4]
    w = state_dict[names[0]]
    big = torch.zeros(w.shape[0] + 1, *w.shape[1:])
    big[1:] = w
    out[names[0]] = big[1:]  # storage offset = one output channel
    w = state_dict[names[1]]
    out[names[1]] = w.permute(2, 3, 0, 1).contiguous().permute(2, 3, 0, 1)  # non-contiguous strides
    biases = [k for k in state_dict if k.endswith('.bias')][:2]
    shared = torch.cat([state_dict[b] for b in biases])
    n0 = state_dict[biases[0]].numel()
    out[biases[0]], out[biases[1]] = shared[:n0], shared[n0:]  # two tensors, one storage
    return out


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), '..', 'tests', 'fixtures', 'realesrgan')
    os.makedirs(out_dir, exist_ok=True)
    p = lambda name: os.path.join(out_dir, name)  # noqa: E731
    torch.set_num_threads(1)

    torch.manual_seed(1234)
    x = torch.rand(1, 3, 11, 9)
    save_npy(p('input_3x11x9.npy'), x)

    torch.manual_seed(1)
    rrdb_x4 = randomize(RRDBNet(scale=4, num_feat=8, num_block=2, num_grow_ch=3), 11)
    torch.manual_seed(2)
    rrdb_x2 = randomize(RRDBNet(scale=2, num_feat=8, num_block=2, num_grow_ch=3), 12)
    torch.manual_seed(3)
    srvgg_x4 = randomize(SRVGGNetCompact(num_feat=8, num_conv=3, upscale=4), 13)
    torch.manual_seed(4)
    srvgg_x2 = randomize(SRVGGNetCompact(num_feat=8, num_conv=3, upscale=2), 14)

    # .pth exactly as torch.save writes them (zip format), in the wrappers Real-ESRGAN uses.
    torch.save(rrdb_x4.state_dict(), p('rrdb_x4.pth'))
    save_npy(p('rrdb_x4.out.npy'), run_like_realesrgan(rrdb_x4, x, 1))
    torch.save({'params_ema': strided_views(rrdb_x2.state_dict())}, p('rrdb_x2_params_ema.pth'))
    save_npy(p('rrdb_x2.out.npy'), run_like_realesrgan(rrdb_x2, x, 2))
    torch.save({k: v.half() for k, v in rrdb_x4.state_dict().items()}, p('rrdb_x4_fp16.pth'))
    save_npy(p('rrdb_x4_fp16.out.npy'), run_like_realesrgan(rounded(rrdb_x4, torch.float16), x, 1))
    torch.save({'params': srvgg_x4.state_dict()}, p('srvgg_x4_params.pth'))
    save_npy(p('srvgg_x4.out.npy'), run_like_realesrgan(srvgg_x4, x, 1))
    torch.save(srvgg_x2.state_dict(), p('srvgg_x2.pth'))
    # Both wrappers: Real-ESRGAN's inference takes params_ema over params.
    torch.save({'params': srvgg_x4.state_dict(), 'params_ema': srvgg_x2.state_dict()}, p('both_wrappers.pth'))
    save_npy(p('srvgg_x2.out.npy'), run_like_realesrgan(srvgg_x2, x, 1))

    # .safetensors in each dtype the reader supports.
    save_safetensors(p('rrdb_x2.safetensors'), rrdb_x2.state_dict(), torch.float32)
    save_safetensors(p('srvgg_x4_fp16.safetensors'), srvgg_x4.state_dict(), torch.float16)
    save_npy(p('srvgg_x4_fp16.out.npy'), run_like_realesrgan(rounded(srvgg_x4, torch.float16), x, 1))
    save_safetensors(p('srvgg_x2_bf16.safetensors'), srvgg_x2.state_dict(), torch.bfloat16)
    save_npy(p('srvgg_x2_bf16.out.npy'), run_like_realesrgan(rounded(srvgg_x2, torch.bfloat16), x, 1))

    # TorchScript: any network; the loader measures its scale (2 here) by running it.
    torch.jit.trace(srvgg_x2, torch.rand(1, 3, 16, 16)).save(p('srvgg_x2_traced.pt'))

    # Bad files (truncated ones are cut from good fixtures by the tests themselves).
    sd = srvgg_x2.state_dict()
    missing = {k: v for k, v in sd.items() if k != 'body.4.weight'}
    torch.save(missing, p('bad_missing_key.pth'))
    wrong = dict(sd)
    wrong['body.3.weight'] = torch.rand(7)  # PReLU of 7 slopes in an 8-feature net
    save_safetensors(p('bad_wrong_shape.safetensors'), wrong, torch.float32)
    extra = dict(sd)
    extra['body.2.running_mean'] = torch.zeros(8)
    torch.save(extra, p('bad_unexpected_key.pth'))
    torch.save({'encoder.weight': torch.rand(4, 3, 3, 3), 'encoder.bias': torch.rand(4)}, p('bad_unknown_arch.pth'))
    torch.save({'params': {'epoch': 3}}, p('bad_no_tensors.pth'))


if __name__ == '__main__':
    main()
