#include "pipeline/transcode_job.h"

#include "core/error.h"
#include "core/log.h"
#include "core/release_timer.h"
#include "io/decoder.h"
#include "io/demuxer.h"
#include "io/encoder.h"
#include "io/encoder_select.h"
#include "io/muxer.h"
#include "io/rgb_converter.h"
#include "io/staged_output.h"
#include "pipeline/bounded_queue.h"
#include "pipeline/frame_upscaler.h"
#include "pipeline/job_encoder_settings.h"
#include "pipeline/nvdec_session.h"
#include "pipeline/stage_group.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <optional>
#include <stdexcept>

extern "C" {
#include <libavutil/pixdesc.h>
}

namespace upscaled::pipeline {
namespace {

using Clock = std::chrono::steady_clock;

struct MuxItem {
  io::PacketPtr packet;
  bool video = false;
};

// When the decoder and the input stages start: once the input is open (the default), once
// the output is open, or once the frame stages are made (UPSCALED_DECODE_START=output|late,
// the orders of earlier versions, for measurements).
enum class DecodeStart { input, output, late };
DecodeStart decode_start_point() {
  const char* v = std::getenv("UPSCALED_DECODE_START");
  const std::string s = v ? v : "";
  return s == "late" ? DecodeStart::late : s == "output" ? DecodeStart::output : DecodeStart::input;
}

// The job's head: demux (video packets to the decoder, every other packet straight to the
// muxer) and decode, which first runs open_decoder (NVDEC's set-up, off the main thread).
// Each closes its output when it ends (the mux queue through mux_done, which counts its
// producers).
void add_input_stages(StageGroup& group, io::Demuxer& demuxer, io::Decoder& decoder, std::function<void()> open_decoder,
                      BoundedQueue<io::PacketPtr>& packets, BoundedQueue<io::FramePtr>& decoded,
                      BoundedQueue<MuxItem>& mux_queue, std::function<void()> mux_done) {
  group.add_stage(
      "demux",
      // Pointers, not references to the parameters: the threads outlive this call.
      [demuxer = &demuxer, packets = &packets, mux_queue = &mux_queue] {
        for (;;) {
          io::PacketPtr pkt = io::make_packet();
          if (!demuxer->read(pkt.get())) return;
          if (pkt->stream_index == demuxer->video_index()) {
            if (!packets->push(std::move(pkt))) return;
          } else if (!mux_queue->push({std::move(pkt), false})) {
            return;
          }
        }
      },
      [packets = &packets, mux_done] {
        packets->close();
        mux_done();
      });

  group.add_stage(
      "decode",
      [decoder = &decoder, open_decoder, packets = &packets, decoded = &decoded] {
        open_decoder();
        bool first_decoded = false;
        auto drain = [&] {
          for (;;) {
            io::FramePtr frame = io::make_frame();
            if (!decoder->receive(frame.get())) return true;
            // The pipeline's fill, for --log-level debug timelines (docs/gpu-pipeline.md).
            if (!first_decoded) log::debug("decode: first frame out");
            first_decoded = true;
            if (!decoded->push(std::move(frame))) return false;
          }
        };
        while (auto pkt = packets->pop()) {
          decoder->send(pkt->get());
          if (!drain()) return;
        }
        if (packets->cancelled()) return;
        decoder->send(nullptr);
        drain();
      },
      [decoded = &decoded] { decoded->close(); });
}

}  // namespace

JobResult run_transcode(const JobOptions& opt, const CancelToken& cancel) {
  const auto t0 = Clock::now();
  std::vector<std::pair<std::string, double>> startup;
  auto mark = [&, last = t0](const char* step) mutable {
    const auto now = Clock::now();
    startup.emplace_back(step, std::chrono::duration<double>(now - last).count());
    last = now;
  };
  check_job_paths(opt);
  ReleaseTimer release;
  // The GPU's one-off set-up runs while the input is opened and the model read; joined
  // before the model's memory is measured. None for a model that an earlier job of this
  // process loaded and ran.
  std::optional<model::DeviceWarmUp> own_warm_up;
  model::DeviceWarmUp* warm_up = nullptr;
  if (!opt.models || !opt.models->has_idle(opt.model)) {
    const bool early = opt.warm_up && opt.warm_up->request().name == opt.model.name &&
                       opt.warm_up->request().device == opt.model.device;
    warm_up = early ? opt.warm_up.get() : &own_warm_up.emplace(opt.model);
  }
  const ReleaseTimer::Mark demuxer_released{release, "demuxer"};
  io::Demuxer demuxer(opt.input);
  const ReleaseTimer::Mark nvdec_released{release, "NVDEC session (FFmpeg's CUDA device, decode stream)"};
  NvdecSession nvdec;  // before the decoder: outlives it and every frame it decodes
  const ReleaseTimer::Mark decoder_released{release, "decoder"};
  io::Decoder decoder(demuxer.video_stream(), opt.input);
  const AVStream* in_video = demuxer.video_stream();
  const AVCodecParameters* par = in_video->codecpar;
  NvdecRequest nvdec_request{opt.decode, opt.input.string(), par};
  NvdecSession::precheck(nvdec_request);

  FrameOptions frame_options;
  frame_options.grayscale = opt.grayscale;
  frame_options.skip_threshold = opt.skip_duplicates;
  frame_options.device = opt.model.device;
  frame_options.batch_queue = std::max(1, opt.batch_queue);
  const std::size_t cap = static_cast<std::size_t>(std::max(1, opt.queue_capacity));
  const std::int64_t estimated_frames = demuxer.estimated_frames();  // before the demux thread reads
  // The decoder starts before the model is loaded, so its frame path is the foreseen one
  // (planned_frames_device). NVDEC surfaces held at once: the decoded queue, what the upscale
  // stages hold (either frame path: a batch and one frame in conversion), one frame being
  // pushed, and a margin; counted for the largest batch a GPU model may pick.
  const int frames_device = planned_frames_device(opt.model, static_cast<AVPixelFormat>(par->format), frame_options);
  const int batch_bound = std::max(1, opt.model.batch > 0 ? opt.model.batch : model::kDefaultGpuBatch);
  const int held_bound = batch_bound + 1;
  nvdec_request.gpu_frames = frames_device >= 0;
  nvdec_request.device = std::max(0, frames_device);
  nvdec_request.extra_frames = static_cast<int>(cap) + held_bound + 2;

  const ReleaseTimer::Mark pipeline_released{release, "pipeline (queues, stage threads)"};
  BoundedQueue<io::PacketPtr> packets(cap * 4);
  BoundedQueue<io::FramePtr> decoded(cap);
  BoundedQueue<io::FramePtr> upscaled(cap);
  BoundedQueue<MuxItem> mux_queue(std::max<std::size_t>(cap * 64, 256));
  std::atomic<int> mux_producers{2};
  auto mux_producer_done = [&] {
    if (--mux_producers == 0) mux_queue.close();
  };
  // After what its started stages use (input, decoder, queues): its destructor stops them
  // first. The stages added later (upscale, encode, mux) only launch in run(), which joins
  // them all, so what they use may be declared after it.
  StageGroup group(cancel);
  for (Cancellable* q : std::initializer_list<Cancellable*>{&packets, &decoded, &upscaled, &mux_queue})
    group.add_queue(*q);
  auto open_decoder = [&] {
    if (nvdec.start(nvdec_request)) decoder = io::Decoder(in_video, opt.input, &nvdec.options());
  };
  add_input_stages(group, demuxer, decoder, open_decoder, packets, decoded, mux_queue, mux_producer_done);
  // The input stages start as soon as the input is open: NVDEC's set-up (55-75 ms to its
  // first frame on an H200, on the decode thread) then runs beside the model's load and the
  // output's opening instead of after them (docs/gpu-pipeline.md, start-up).
  const DecodeStart decode_start = decode_start_point();
  if (decode_start == DecodeStart::input) group.start();
  mark("open input");

  const int in_sar_num = par->sample_aspect_ratio.num, in_sar_den = par->sample_aspect_ratio.den;
  model::ModelRequest request = opt.model;
  request.scale = wanted_scale(opt.geometry, opt.model.scale, par->width, par->height, in_sar_num, in_sar_den);
  const ReleaseTimer::Mark model_released{release, "model"};
  std::optional<model::UpscalerCache::Lease> lease;
  std::unique_ptr<model::Upscaler> own_model;
  if (opt.models)
    lease.emplace(opt.models->borrow(request));
  else
    own_model = model::load_upscaler(request);
  model::Upscaler* const upscaler = lease ? &lease->get() : own_model.get();
  const int scale = upscaler->scale();
  mark("load model");

  const ReleaseTimer::Mark output_released{release, "output (muxer, staged file)"};
  io::StagedOutput staged(opt.output, opt.overwrite, opt.temp_dir);
  io::Muxer muxer(staged.temp_path(), opt.output, demuxer.context(), demuxer.video_index());

  const std::string codec = encoder_for(opt.output, opt.codec);
  const FramePlan geo = plan_frames(opt.geometry, par->width, par->height, in_sar_num, in_sar_den, scale,
                                    subsampled_output(codec, static_cast<AVPixelFormat>(par->format)));
  const bool fitted = opt.geometry.size && opt.geometry.fit != Fit::stretch;
  if (!fitted && (geo.out_width != geo.canvas_width || geo.out_height != geo.canvas_height))
    log::warn(log::cat("output ", geo.canvas_width, "x", geo.canvas_height, " is odd; the encoder's 4:2:0 format ",
                       "needs even sizes, cropping to ", geo.out_width, "x", geo.out_height));
  const io::EncoderConfig ec = encoder_config(opt, codec, in_video, geo, muxer.wants_global_header());
  const io::ColorInfo in_color = io::effective_color(par->color_space, par->color_range, ec.source_format, par->height);
  const ReleaseTimer::Mark encoder_released{release, "encoder"};
  io::Encoder encoder = io::open_video_encoder(ec, opt.encode);
  muxer.add_video(encoder.context());
  muxer.write_header();
  mark("open output");

  log::info(log::cat(quoted(opt.input), ": ", par->width, "x", par->height, " ", avcodec_get_name(par->codec_id),
                     " -> ", geo.out_width, "x", geo.out_height, " ", encoder.context()->codec->name, " (",
                     av_get_pix_fmt_name(encoder.pixel_format()), "), model ", upscaler->describe()));

  FrameFormats formats;
  formats.in_format = ec.source_format;
  formats.in_color = in_color;
  formats.in_chroma = par->chroma_location;
  formats.out_format = encoder.pixel_format();
  formats.out_color = {encoder.context()->colorspace, encoder.context()->color_range};
  log::info("frames: " + describe(geo, opt.geometry.fit));
  if (opt.geometry.pre_resize && geo.pre_resize())
    log::info(log::cat("pre-resize: the network gets ", geo.net_width, "x", geo.net_height, " instead of ",
                       geo.src_width, "x", geo.src_height, " (area filter; its output still covers the ",
                       geo.picture_width, "x", geo.picture_height, " picture)"));
  const bool gpu_frames = frames_on_gpu(*upscaler, formats, frame_options);
  if (gpu_frames && upscaler->cuda_device() != frames_device)
    throw std::logic_error("the model's device differs from the one its frame path was planned for");
  if (nvdec_request.gpu_frames && !gpu_frames)
    log::info("frames: NVDEC's frames are copied to the host for the CPU frame path");
  if (decode_start == DecodeStart::output) group.start();
  // While the warm-up runs the GPU is nearly idle: the frame path's kernels load now rather
  // than at their first launch, where a load waits for the network in flight (already done
  // where the CLI's early warm-up loaded them).
  if (gpu_frames) load_gpu_frame_kernels(*upscaler);
  const ReleaseTimer::Mark frames_released{release, "frame stages (pools, their queues)"};
  std::unique_ptr<FrameUpscaler> upscale = make_frame_upscaler(*upscaler, geo, formats, frame_options);
  mark("make frame stages");
  // A GPU model reserves its device memory and picks tile and batch before the batch size
  // is read (may wait for other jobs on the same GPU); the reservation also covers the
  // frame path's own device buffers (FrameUpscaler::device_bytes: the GPU path's pictures,
  // pool of batches, resize intermediates and canvas, which add_stages makes).
  if (warm_up) warm_up->wait();
  upscaler->prepare(geo.net_width, geo.net_height, upscale->device_bytes());
  mark("plan memory");
  int batch = std::max(1, opt.model.batch > 0 ? opt.model.batch : upscaler->preferred_batch());
  // A clip shorter than a batch (a still image): batches of its length, so the network's one
  // input shape is no bigger than the work.
  if (estimated_frames > 0 && estimated_frames < batch) batch = static_cast<int>(estimated_frames);
  if (batch > batch_bound || upscale->frames_held(batch) > held_bound)
    throw std::logic_error("batch exceeds what the decoder's surfaces were counted for");
  if (decode_start == DecodeStart::late) group.start();
  mark("set up stages");

  Progress progress;
  progress.frames_total = estimated_frames;
  std::atomic<std::int64_t> frames_out{0};
  double first_frame_s = 0, last_frame_s = 0;  // encode thread; read after the run

  const UpscaleLinks links{&decoded, &upscaled, batch};
  upscale->add_stages(group, links);

  group.add_stage(
      "encode",
      [&] {
        std::int64_t last_pts = AV_NOPTS_VALUE;
        bool warned = false;
        auto last_report = Clock::now();
        auto drain = [&] {
          for (;;) {
            io::PacketPtr pkt = io::make_packet();
            if (!encoder.receive(pkt.get())) return true;
            if (!mux_queue.push({std::move(pkt), true})) return false;
          }
        };
        while (auto frame = upscaled.pop()) {
          AVFrame* f = frame->get();
          // Encoders need strictly increasing timestamps; a broken source can repeat one.
          if (f->pts == AV_NOPTS_VALUE) f->pts = last_pts == AV_NOPTS_VALUE ? 0 : last_pts + 1;
          if (last_pts != AV_NOPTS_VALUE && f->pts <= last_pts) {
            if (!warned) log::warn(log::cat(quoted(opt.input), ": non-increasing video timestamps; nudged"));
            warned = true;
            f->pts = last_pts + 1;
          }
          last_pts = f->pts;
          f->pict_type = AV_PICTURE_TYPE_NONE;
          const auto send_start = Clock::now();
          encoder.send(f);
          if (!drain()) return;
          const std::int64_t done = ++frames_out;
          last_frame_s = std::chrono::duration<double>(Clock::now() - t0).count();
          if (done == 1) {
            first_frame_s = last_frame_s;
            log::debug(log::cat("encode: first frame sent in ",
                                std::chrono::duration<double>(Clock::now() - send_start).count(), " s"));
          }
          if (opt.on_progress && Clock::now() - last_report > std::chrono::milliseconds(500)) {
            last_report = Clock::now();
            Progress p = progress;
            p.frames_done = done;
            p.elapsed_s = std::chrono::duration<double>(Clock::now() - t0).count();
            p.fps = p.elapsed_s > 0 ? done / p.elapsed_s : 0;
            opt.on_progress(p);
          }
        }
        if (upscaled.cancelled()) return;
        const auto flush_start = Clock::now();
        encoder.send(nullptr);
        drain();
        // The encoder's tail (libx264: its lookahead and frame threads), for debug timelines.
        log::debug(log::cat("encode: flushed in ", std::chrono::duration<double>(Clock::now() - flush_start).count(),
                            " s after the last frame"));
      },
      [&] { mux_producer_done(); });

  group.add_stage("mux", [&] {
    // The file's pages start for the disk as it grows, so the commit's fsync at the end
    // (inside the job's time) waits for the last few only.
    int since_writeback = 0;
    while (auto item = mux_queue.pop()) {
      if (item->video)
        muxer.write_video(item->packet.get(), encoder.context()->time_base);
      else
        muxer.write_copied(item->packet.get());
      if (++since_writeback == 32) {
        staged.write_back_early();
        since_writeback = 0;
      }
    }
    if (mux_queue.cancelled()) return;
    muxer.finish();
  });

  group.run();
  if (cancel.requested()) throw Cancelled();
  if (frames_out.load() == 0)
    throw Error(ErrorCode::input_invalid,
                quoted(opt.input) + ": no video frame could be decoded (truncated or corrupt?)");
  const auto commit_start = Clock::now();
  staged.commit();
  log::debug(log::cat("output committed in ", std::chrono::duration<double>(Clock::now() - commit_start).count(),
                      " s (fsync, rename, folder fsync)"));
  if (lease) lease->keep();  // a model that finished a job well serves the next one

  JobResult result;
  result.frames = frames_out.load();
  result.width = geo.out_width;
  result.height = geo.out_height;
  result.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  result.model = upscaler->describe();
  result.skipped_frames = upscale->skipped();
  result.network_width = geo.net_width;
  result.network_height = geo.net_height;
  result.first_frame_s = first_frame_s;
  result.last_frame_s = last_frame_s;
  result.startup = std::move(startup);
  result.model_reused = lease && lease->reused();
  if (opt.skip_duplicates > 0)
    log::info(log::cat("--skip-duplicates: ", result.skipped_frames, " of ", result.frames,
                       " frames repeated the previous picture (network skipped)"));
  {
    // Each queue has one consumer; the mux queue has two producers (demux for copied
    // packets, encode for video) whose push waits cannot be told apart: both get the sum.
    const auto& t = group.timings();
    const QueueStats qp = packets.stats(), qd = decoded.stats(), qu = upscaled.stats(), qm = mux_queue.stats();
    result.stages = {
        {t[0].name, t[0].wall_s, 0, qp.push_wait_s + qm.push_wait_s},
        {t[1].name, t[1].wall_s, qp.pop_wait_s, qd.push_wait_s},
    };
    for (StageStats& s : upscale->stage_stats(t, 2)) result.stages.push_back(std::move(s));
    const std::size_t enc = result.stages.size();
    result.stages.push_back({t[enc].name, t[enc].wall_s, qu.pop_wait_s, qm.push_wait_s});
    result.stages.push_back({t[enc + 1].name, t[enc + 1].wall_s, qm.pop_wait_s, 0});
  }
  if (opt.on_progress) {
    Progress p = progress;
    p.frames_done = result.frames;
    p.elapsed_s = result.seconds;
    p.fps = result.seconds > 0 ? result.frames / result.seconds : 0;
    opt.on_progress(p);
  }
  release.start();
  return result;
}

}  // namespace upscaled::pipeline
