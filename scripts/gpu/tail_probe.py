# What the eager tail after the cuDNN executor costs (thick x4, 640x360 batch 4 and 1280x720
# batch 1): steady GPU time of each step and the host time of each step's first call at a new shape.
import time, torch, torch.nn.functional as F
torch.backends.cudnn.benchmark = False
dev = 'cuda'
def gpu_ms(fn, reps=20):
    for _ in range(3): fn()
    torch.cuda.synchronize()
    ts = []
    for _ in range(reps):
        a = torch.cuda.Event(enable_timing=True); b = torch.cuda.Event(enable_timing=True)
        a.record(); fn(); b.record(); torch.cuda.synchronize(); ts.append(a.elapsed_time(b))
    ts.sort(); return ts[len(ts)//2]
w_sr = torch.randn(3, 3, 3, 3, device=dev, dtype=torch.half).contiguous(memory_format=torch.channels_last)
b_sr = torch.randn(3, device=dev, dtype=torch.half)
for (n, h, wd) in [(1, 16, 16), (1, 64, 64), (4, 360, 640), (1, 720, 1280)]:
    frames = torch.rand(n, 3, h, wd, device=dev, dtype=torch.half)
    pre = torch.randn(n, 48, h, wd, device=dev, dtype=torch.half).contiguous(memory_format=torch.channels_last)
    torch.cuda.synchronize()
    first = {}
    t = time.perf_counter(); x = torch.stack([frames[i] for i in range(n)]).contiguous(memory_format=torch.channels_last); torch.cuda.synchronize(); first['in'] = time.perf_counter() - t
    t = time.perf_counter(); ps = F.pixel_shuffle(pre, 4); torch.cuda.synchronize(); first['shuffle'] = time.perf_counter() - t
    t = time.perf_counter(); y = F.conv2d(ps, w_sr, b_sr, padding=1); torch.cuda.synchronize(); first['conv'] = time.perf_counter() - t
    t = time.perf_counter(); z = y.clamp(0, 1); torch.cuda.synchronize(); first['clamp'] = time.perf_counter() - t
    out = torch.empty(n, 3, h * 4, wd * 4, device=dev, dtype=torch.half)
    t = time.perf_counter(); [out[i].copy_(z[i]) for i in range(n)]; torch.cuda.synchronize(); first['out'] = time.perf_counter() - t
    steady = {
        'in': gpu_ms(lambda: torch.stack([frames[i] for i in range(n)]).contiguous(memory_format=torch.channels_last)),
        'shuffle': gpu_ms(lambda: F.pixel_shuffle(pre, 4)),
        'conv': gpu_ms(lambda: F.conv2d(ps, w_sr, b_sr, padding=1)),
        'clamp': gpu_ms(lambda: y.clamp(0, 1)),
        'out': gpu_ms(lambda: [out[i].copy_(z[i]) for i in range(n)]),
        'all': gpu_ms(lambda: [out[i].copy_(c) for i, c in enumerate(F.conv2d(F.pixel_shuffle(pre, 4), w_sr, b_sr, padding=1).clamp(0, 1))]),
    }
    print(f"{n}x{h}x{wd}: ps layout cl={ps.is_contiguous(memory_format=torch.channels_last)} y cl={y.is_contiguous(memory_format=torch.channels_last)}")
    print("  first call host ms: " + ", ".join(f"{k} {v*1e3:.2f}" for k, v in first.items()))
    print("  steady GPU ms:      " + ", ".join(f"{k} {v:.3f}" for k, v in steady.items()))
