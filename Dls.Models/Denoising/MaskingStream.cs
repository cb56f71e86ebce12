using System.Globalization;
using System.Runtime.InteropServices;
using Dls.Audio;
using TorchSharp;
using static TorchSharp.torch;

namespace Dls.Models.Denoising;

/// <summary>Receives denoised samples as they become final.</summary>
/// <param name="samples">The next samples of the output, in order.</param>
internal delegate void SampleSink(ReadOnlySpan<float> samples);

/// <summary>
/// The one engine behind whole-file, chunked and streaming denoising. Input arrives in blocks of any size; every
/// STFT frame (n_fft 1024, hop 512, centred, periodic Hann, reflect padding at both ends — the settings of
/// <see cref="DenoisingStft"/>) is computed as soon as its samples are known, masked by the network (whose state
/// is carried between blocks), inverted and overlap-added; an output sample is released once both frames covering
/// it are done, divided by the summed squared window exactly as <c>torch.istft</c> does. The result therefore does
/// not depend on how the input was cut into blocks, memory stays bounded by <c>maxFramesPerBatch</c>, and an output
/// sample waits for at most 1023 later input samples (less than one window).
/// </summary>
internal sealed class MaskingStream : IDisposable
{
    private const int N = DenoisingStft.FftLength;
    private const int H = DenoisingStft.HopLength;

    private readonly IMaskNetwork _model;
    private readonly int _maxFramesPerBatch;
    private readonly SampleSink _sink;
    private readonly Tensor _window;
    private readonly float[] _windowValues;
    private readonly float[] _windowSquared;
    private Tensor? _state;

    // Spectra (L, bins) of the last L frames given to the network whose masks are still to come (lookahead L).
    private Tensor? _pending;
    private long _nextMasked;

    // The input samples the next frames still read, by global index.
    private readonly SampleWindow _in = new(0, 4 * N);
    private long _received;
    private long _length = -1;
    private long _originalLength = -1;

    private long _nextFrame;
    private readonly float[] _tail = new float[H];
    private long _emitted;

    // Working buffers of one batch of frames, reused from batch to batch (grown to the largest batch seen), so a batch
    // allocates no array of its own size (it used to allocate five: about ten times the input in garbage).
    private Tensor? _frameTensor;   // (frames, N) float32: the windowed frames of a batch, reused from batch to batch
    private float[] _output = [];
    private float[] _acc = [];
    private float[] _final = [];

    public MaskingStream(IMaskNetwork model, SampleSink sink, int maxFramesPerBatch = 1024)
    {
        _model = model;
        _sink = sink;
        _maxFramesPerBatch = maxFramesPerBatch;
        // The stream's tensors (window, GRU state, pending spectra) live from block to block: never in a caller's scope.
        _window = DenoisingStft.Window().DetachFromDisposeScope();
        _windowValues = _window.data<float>().ToArray();
        _windowSquared = _windowValues.Select(x => x * x).ToArray();
    }

    public void Push(ReadOnlySpan<float> block)
    {
        if (_length >= 0)
        {
            throw new InvalidOperationException("The stream was already completed; start a new one.");
        }

        Append(block);
        _received += block.Length;
        ProcessReady();
    }

    /// <summary>Declares the end of the input and releases the remaining output.</summary>
    public void Complete()
    {
        if (_length >= 0)
        {
            return;
        }

        _originalLength = _received;
        if (_received <= H)
        {
            // Reflect padding needs more than half a window; shorter input is zero-extended and the output cut back.
            Span<float> zeros = stackalloc float[H + 1 - (int)_received];
            zeros.Clear();
            Append(zeros);
            _received = H + 1;
        }

        _length = _received;
        ProcessReady();
    }

    /// <summary>The most later input samples an output sample waits for.</summary>
    public static int LatencySamples(IMaskNetwork network) => N - 1 + (network.LookaheadFrames * H);

    public void Dispose()
    {
        _state?.Dispose();
        _state = null;
        _pending?.Dispose();
        _pending = null;
        _window.Dispose();
        _frameTensor?.Dispose();
    }

    private void Append(ReadOnlySpan<float> block)
    {
        // Keep the samples the next frames still need: frame t reads global indices from t·H − H (and the end
        // reflection reaches one sample further back), so two hops before the next frame suffice.
        _in.DiscardBefore((_nextFrame * H) - (2 * H));
        _in.Append(block);
    }

    private long ReadyFrames()
    {
        if (_length >= 0)
        {
            return DenoisingStft.FrameCount(_length);
        }

        // Frame t needs input up to index t·H + H − 1; frame 0 also needs index H for its reflected left edge.
        return _received < H + 1 ? 0 : Math.Max(1, _received / H);
    }

    /// <summary>The input at padded position <paramref name="position"/> (reflected at both ends), read from
    /// <paramref name="input"/>, the kept samples from global index <paramref name="inputStart"/> on.</summary>
    private float Padded(long position, ReadOnlySpan<float> input, long inputStart)
    {
        long j = position - H;
        if (j < 0)
        {
            j = -j;
        }
        else if (_length >= 0 && j >= _length)
        {
            j = (2 * (_length - 1)) - j;
        }

        return input[(int)(j - inputStart)];
    }

    private void ProcessReady()
    {
        long ready = ReadyFrames();
        while (_nextFrame < ready)
        {
            int count = (int)Math.Min(_maxFramesPerBatch, ready - _nextFrame);
            ProcessFrames(_nextFrame, count);
            _nextFrame += count;
        }

        if (_length >= 0 && _nextFrame == ready)
        {
            if (_nextMasked < ready)
            {
                FlushLookahead(ready);
            }

            // Positions after the last frame's first half are covered by that frame alone.
            long start = _nextFrame * H;
            var last = new float[H];
            for (int k = 0; k < H; k++)
            {
                last[k] = _tail[k] / _windowSquared[k + H];
            }

            Emit(start, last);
        }
    }

    private void ProcessFrames(long first, int count)
    {
        int lookahead = _model.LookaheadFrames;
        ReadOnlySpan<float> output;
        using (no_grad())
        using (NewDisposeScope())
        {
            // The windowed frames are written straight into a tensor kept from batch to batch. torch.tensor(Memory<float>)
            // copied them into a new managed array first (512 KB per 128 frames, garbage that the GC's large-object heap
            // let pile up), and a new tensor per batch churns the native allocator. The product is the float32 product
            // torch's `frames * window` gives, so the values are the same to the bit.
            Span<float> frames = FrameBuffer(count);
            ReadOnlySpan<float> input = _in.Slice(_in.Start, _in.Count);
            for (int f = 0; f < count; f++)
            {
                long start = (first + f) * H;
                Span<float> frame = frames.Slice(f * N, N);
                for (int k = 0; k < N; k++)
                {
                    frame[k] = Padded(start + k, input, _in.Start) * _windowValues[k];
                }
            }

            Tensor x = _frameTensor!.narrow(0, 0, count);
            Tensor spec = fft.rfft(x, N, dim: 1);
            Tensor mask = CheckMask(_model.ForwardContinued(spec.abs().unsqueeze(0), _state, out Tensor? next), count, nameof(IMaskNetwork.ForwardContinued));
            _state?.Dispose();
            _state = next?.DetachFromDisposeScope();
            Tensor target = spec;
            if (lookahead > 0)
            {
                // The rows are the masks of frames first − L … first + count − 1 − L: those of the pending spectra,
                // then of the first count − L new ones (frames before 0 exist only at the start and are dropped).
                Tensor all = cat([_pending ?? zeros(lookahead, spec.shape[1], dtype: spec.dtype), spec], 0);
                target = all.narrow(0, 0, count);
                _pending?.Dispose();
                _pending = all.narrow(0, count, lookahead).clone().DetachFromDisposeScope();
            }

            output = Invert(target, mask.squeeze(0), first - lookahead);
        }

        OverlapAdd(first - lookahead, count, output);
    }

    /// <summary>The first <paramref name="count"/> rows of the reused frame tensor (grown first if it has fewer).</summary>
    private Span<float> FrameBuffer(int count)
    {
        if (_frameTensor is null || _frameTensor.shape[0] < count)
        {
            _frameTensor?.Dispose();
            using (NewDisposeScope())
            {
                _frameTensor = empty([count, N], dtype: ScalarType.Float32).DetachFromDisposeScope();
            }
        }

        return MemoryMarshal.Cast<byte, float>(_frameTensor.bytes)[..(count * N)];
    }

    /// <summary>At the end of the input: the last L frames' masks (lookahead networks), inverted and overlap-added.</summary>
    private void FlushLookahead(long totalFrames)
    {
        int lookahead = _model.LookaheadFrames;
        ReadOnlySpan<float> output;
        using (no_grad())
        using (NewDisposeScope())
        {
            Tensor mask = CheckMask(_model.Flush(_state, 1), lookahead, nameof(IMaskNetwork.Flush));
            output = Invert(_pending!, mask.squeeze(0), totalFrames - lookahead);
        }

        OverlapAdd(totalFrames - lookahead, lookahead, output);
    }

    /// <summary>
    /// The network's mask, checked to be one row per frame of the batch: a mask of another shape would be broadcast
    /// against the spectra (a single row, say, would mask every frame alike) or fail inside torch without saying why.
    /// </summary>
    private Tensor CheckMask(Tensor mask, long frames, string call) => CheckMask(_model, mask, 1, frames, call);

    /// <summary>Checks that <paramref name="network"/>'s <paramref name="call"/> returned a float32 mask of shape (batch, frames, bins).</summary>
    internal static Tensor CheckMask(IMaskNetwork network, Tensor mask, long batch, long frames, string call)
    {
        long[] shape = mask.shape;
        if (shape.Length != 3 || shape[0] != batch || shape[1] != frames || shape[2] != DenoisingStft.Bins)
        {
            throw new InvalidOperationException(
                $"Expected {network.GetType().Name} ('{network.Architecture}').{call} to return a mask of shape [{batch}, {frames}, {DenoisingStft.Bins}] (batch, frames, bins); found [{string.Join(", ", shape)}].");
        }

        // Another dtype would carry through the product with the float32 spectra (a float64 mask gives complex128 spectra
        // and a float64 output), where the engine reads float32 values.
        if (mask.dtype != ScalarType.Float32)
        {
            throw new InvalidOperationException(
                $"Expected {network.GetType().Name} ('{network.Architecture}').{call} to return a float32 mask (the dtype of the spectra it masks); found {mask.dtype}.");
        }

        return mask;
    }

    /// <summary>
    /// The windowed inverse FFT of the masked frames (the first being frame <paramref name="firstFrame"/>), in
    /// <see cref="_output"/> (valid until the next batch).
    /// </summary>
    private ReadOnlySpan<float> Invert(Tensor spec, Tensor mask, long firstFrame)
    {
        Tensor y = (fft.irfft(spec * mask, N, dim: 1) * _window).contiguous();
        // Read as float32 bytes below: the spectra, the window and (checked by CheckMask) the mask are all float32.
        ReadOnlySpan<float> values = MemoryMarshal.Cast<byte, float>(y.bytes);
        int bad = SampleChecks.IndexOfNonFinite(values);
        if (bad >= 0)
        {
            // A ReLU mask has no bound: mask × magnitude can overflow float32, and the inverse FFT then gives NaN (∞ − ∞),
            // which a 16-bit WAV would store as silence without a word.
            throw new InvalidOperationException(
                $"Expected finite samples from {_model.GetType().Name} ('{_model.Architecture}'): the masked spectrum of frame {firstFrame + (bad / N)} " +
                $"inverts to {values[bad]} (the mask reaches {mask.max().item<float>().ToString(CultureInfo.InvariantCulture)}; float32 holds at most {float.MaxValue.ToString(CultureInfo.InvariantCulture)}).");
        }

        Span<float> output = Buffer(ref _output, values.Length);
        values.CopyTo(output);
        return output;
    }

    /// <summary>The first <paramref name="length"/> values of <paramref name="buffer"/>, grown first if it is shorter.</summary>
    private static Span<float> Buffer(ref float[] buffer, int length)
    {
        if (buffer.Length < length)
        {
            buffer = new float[length];
        }

        return buffer.AsSpan(0, length);
    }

    /// <summary>Overlap-adds <paramref name="count"/> inverted frames from <paramref name="first"/> on (frames before 0 are skipped).</summary>
    private void OverlapAdd(long first, int count, ReadOnlySpan<float> output)
    {
        int skip = (int)Math.Max(0, -first);
        first += skip;
        count -= skip;
        if (count <= 0)
        {
            return;
        }

        // Overlap-add into positions [first·H, (first + count)·H + H); _tail holds frame first−1's second half.
        Span<float> acc = Buffer(ref _acc, (count + 1) * H);
        acc.Clear();
        _tail.CopyTo(acc);
        for (int f = 0; f < count; f++)
        {
            int offset = f * H;
            int source = (f + skip) * N;
            for (int k = 0; k < N; k++)
            {
                acc[offset + k] += output[source + k];
            }
        }

        acc.Slice(count * H, H).CopyTo(_tail);
        Span<float> final = Buffer(ref _final, count * H);
        for (int p = 0; p < count * H; p++)
        {
            long position = (first * H) + p;
            int phase = p % H;
            // Frames position/H (its first half) and position/H − 1 (its second half) cover this position.
            float envelope = _windowSquared[phase] + (position >= H ? _windowSquared[phase + H] : 0f);
            final[p] = acc[p] / envelope;
        }

        _nextMasked = first + count;
        Emit(first * H, final);
    }

    private void Emit(long startPosition, ReadOnlySpan<float> values)
    {
        // Padded position p is output sample p − H; samples beyond the (original) end are dropped.
        long end = _originalLength >= 0 ? _originalLength : long.MaxValue;
        long from = Math.Max(startPosition - H, _emitted);
        long to = Math.Min(startPosition - H + values.Length, end);
        if (to > from)
        {
            _sink(values.Slice((int)(from - (startPosition - H)), (int)(to - from)));
            _emitted = to;
        }
    }
}
