using System.Runtime.CompilerServices;
using Dls.Audio;
using Dls.Audio.IO;
using Dls.Audio.Resampling;
using TorchSharp;
using static TorchSharp.torch;

namespace Dls.Models.Denoising;

/// <summary>
/// The <see cref="IDenoiser"/> over a mask network: STFT (n_fft 1024, hop 512) → mask × noisy magnitude with the
/// noisy phase → inverse STFT, run block by block by one engine (see <see cref="CreateStream()"/>), so whole-file,
/// chunked and streaming use give the same samples. Owns the network (disposed with the denoiser).
/// </summary>
public sealed class Denoiser : IDenoiser, IDisposable
{
    /// <summary>The sample rate of the shipped models, in Hz.</summary>
    public const int DefaultSampleRate = 16000;

    /// <summary>
    /// The largest batch of frames accepted (524,287): a batch's frames, n_fft float32 values each, are exchanged with
    /// libtorch as one span of bytes (<c>Tensor.bytes</c>), which holds under 2 GiB.
    /// </summary>
    public const int MaxFramesPerBatchLimit = int.MaxValue / sizeof(float) / DenoisingStft.FftLength;

    private readonly nn.Module _module;
    private readonly IMaskNetwork _network;
    private readonly int _maxFramesPerBatch;
    private readonly bool _ownsNetwork;
    private readonly object _gate = new();
    private int _inFlight;          // calls (and stream blocks) running now
    private bool _disposeRequested; // Dispose was called: no new call may start
    private bool _disposed;         // the network is disposed (by Dispose, or by the last call running then)
    private int? _outputSampleRate;

    /// <summary>Wraps a network (switched to evaluation mode).</summary>
    /// <param name="network">A mask network module (<see cref="FcMaskNetwork"/>, <see cref="GruMaskNetwork"/>).</param>
    /// <param name="sampleRate">The rate the network was trained at, in Hz.</param>
    /// <param name="maxFramesPerBatch">Most STFT frames given to the network at once (bounds memory).</param>
    /// <param name="ownsNetwork">Whether disposing the denoiser disposes the network.</param>
    public Denoiser(IMaskNetwork network, int sampleRate = DefaultSampleRate, int maxFramesPerBatch = 1024, bool ownsNetwork = true)
    {
        ArgumentNullException.ThrowIfNull(network);
        if (network is not nn.Module module)
        {
            throw new ArgumentException($"Expected a TorchSharp module implementing {nameof(IMaskNetwork)}; found {network.GetType().Name}.", nameof(network));
        }

        if (network.Bins != DenoisingStft.Bins)
        {
            throw new ArgumentException($"Expected a network over {DenoisingStft.Bins} bins (n_fft {DenoisingStft.FftLength}); found {network.Bins}.", nameof(network));
        }

        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(sampleRate);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxFramesPerBatch);
        if (maxFramesPerBatch > MaxFramesPerBatchLimit)
        {
            throw new ArgumentOutOfRangeException(nameof(maxFramesPerBatch), maxFramesPerBatch,
                $"Expected at most {MaxFramesPerBatchLimit} frames per batch (a batch's frames, {DenoisingStft.FftLength} float32 values each, are read and written as one span of under 2 GiB); found {maxFramesPerBatch}.");
        }

        _module = module;
        _network = network;
        _module.eval();
        SampleRate = sampleRate;
        _maxFramesPerBatch = maxFramesPerBatch;
        _ownsNetwork = ownsNetwork;
        ParameterCount = _module.parameters().Sum(p => p.numel());
    }

    /// <inheritdoc />
    public int SampleRate { get; }

    /// <inheritdoc />
    public string Architecture => _network.Architecture;

    /// <inheritdoc />
    public long ParameterCount { get; }

    /// <summary>Sample rate in Hz of files written by <see cref="DenoiseFile"/>; <c>null</c> keeps the input's rate.</summary>
    public int? OutputSampleRate
    {
        get => _outputSampleRate;
        set
        {
            if (value is <= 0)
            {
                throw new ArgumentOutOfRangeException(nameof(value), value, $"Expected an output sample rate > 0 Hz or null; found {value}.");
            }

            _outputSampleRate = value;
        }
    }

    /// <summary>Test seam: called by the block-by-block file path after each block read, with the frames read so far.</summary>
    internal Action<long>? FileBlockRead { get; set; }

    /// <summary>The network (for inspection; do not train it while the denoiser is in use).</summary>
    public IMaskNetwork Network => _network;

    /// <summary>Loads a denoiser from a checkpoint written by <see cref="DenoisingModels.Save"/>.</summary>
    /// <param name="path">The checkpoint file.</param>
    /// <param name="maxFramesPerBatch">Most frames given to the network at once.</param>
    /// <returns>The denoiser.</returns>
    public static Denoiser Load(string path, int maxFramesPerBatch = 1024)
    {
        (IMaskNetwork network, int rate) = DenoisingModels.Load(path);
        return Own(network, rate, maxFramesPerBatch);
    }

    /// <summary>Loads the default model shipped inside this library (a causal GRU mask network, 16 kHz).</summary>
    /// <param name="maxFramesPerBatch">Most frames given to the network at once.</param>
    /// <returns>The denoiser.</returns>
    public static Denoiser LoadDefault(int maxFramesPerBatch = 1024)
    {
        (IMaskNetwork network, int rate) = DenoisingModels.LoadDefault();
        return Own(network, rate, maxFramesPerBatch);
    }

    /// <summary>A denoiser owning a freshly loaded network; the network is disposed if the denoiser cannot be made.</summary>
    private static Denoiser Own(IMaskNetwork network, int rate, int maxFramesPerBatch)
    {
        try
        {
            return new Denoiser(network, rate, maxFramesPerBatch);
        }
        catch
        {
            ((nn.Module)network).Dispose();
            throw;
        }
    }

    /// <inheritdoc />
    public float[] Denoise(ReadOnlySpan<float> samples, int sampleRate, CancellationToken cancellationToken = default)
    {
        using Lease lease = Enter();
        CheckInput(samples, sampleRate);
        // Resampled to the model's rate and back block by block: only the input and the output are whole arrays. The
        // output always has the input's length (resampling there and back can come out a sample off).
        var output = new float[samples.Length];
        int written = 0;
        using var chain = new DenoisingChain(_network, SampleRate, _maxFramesPerBatch, sampleRate, samples.Length, sampleRate, s =>
        {
            s.CopyTo(output.AsSpan(written));
            written += s.Length;
        });
        for (int start = 0; start < samples.Length; start += DenoisingChain.FeedSamples)
        {
            cancellationToken.ThrowIfCancellationRequested();
            chain.Push(samples.Slice(start, Math.Min(DenoisingChain.FeedSamples, samples.Length - start)));
        }

        chain.Complete();
        return output;
    }

    /// <inheritdoc />
    public void DenoiseFile(string inputPath, string outputPath, CancellationToken cancellationToken = default)
    {
        using Lease lease = Enter();
        ArgumentException.ThrowIfNullOrWhiteSpace(inputPath);
        ArgumentException.ThrowIfNullOrWhiteSpace(outputPath);
        if (!File.Exists(inputPath))
        {
            throw new FileNotFoundException($"Input WAV file '{Path.GetFullPath(inputPath)}' does not exist.", inputPath);
        }

        AudioSignal input;
        int outputRate;   // read once: OutputSampleRate may be set by another thread meanwhile
        using (var reader = new WavReader(inputPath))
        {
            if (reader.FrameCount == 0)
            {
                throw new InvalidDataException($"'{inputPath}' holds no samples (expected at least 1).");
            }

            // The output is 16-bit PCM, and a WAV file holds at most 4 GiB (the loading path below fails on such a file too).
            int inputRate = reader.Format.SampleRate;
            outputRate = _outputSampleRate ?? inputRate;
            CheckFileRate(inputPath, inputRate, outputRate);
            long outputFrames = outputRate == inputRate ? reader.FrameCount : Resampler.OutputLength(reader.FrameCount, inputRate, outputRate);
            if (outputFrames * sizeof(short) > uint.MaxValue - 64)
            {
                throw new NotSupportedException(
                    $"'{inputPath}' holds {reader.FrameCount} frames at {inputRate} Hz, {outputFrames} at the output's {outputRate} Hz; " +
                    $"a 16-bit WAV output holds at most {(uint.MaxValue - 64) / sizeof(short)} (4 GiB).");
            }

            // Block by block needs an output that is not the input itself (the input stays open while the output is
            // written, and Windows refuses to replace an open file).
            bool inPlace = string.Equals(
                Path.GetFullPath(inputPath), Path.GetFullPath(outputPath),
                OperatingSystem.IsWindows() || OperatingSystem.IsMacOS() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal);
            if (!inPlace)
            {
                DenoiseFileInBlocks(reader, inputPath, outputPath, outputRate, outputFrames, cancellationToken);
                return;
            }

            // The output replacing the input: the file is loaded whole (as AudioFile.Load does, from the reader already
            // open), and resampled as Denoise does.
            input = WavFile.Read(reader).ToSignal();
        }

        CheckFiniteFile(input.Samples, 0, inputPath);
        float[] output = Denoise(input.Samples, input.SampleRate, cancellationToken);
        if (outputRate != input.SampleRate)
        {
            output = Resampler.Resample(output, input.SampleRate, outputRate);
        }

        // Written only now, atomically: a failure above leaves no output file behind.
        AudioFile.Save(outputPath, new AudioSignal(output, outputRate), WavSampleFormat.Pcm16);
    }

    /// <summary>
    /// A file read, denoised and written a block at a time, so that memory stays bounded for a file of any length and
    /// at any rate: the same downmix as <see cref="AudioFile.Load"/> (<see cref="WavReader.ReadMonoFrames"/>) and the same
    /// chain as <see cref="Denoise"/>, so the samples are those of the whole-file path, to the bit.
    /// </summary>
    private void DenoiseFileInBlocks(WavReader reader, string inputPath, string outputPath, int outputRate, long outputFrames, CancellationToken cancellationToken)
    {
        var mono = new float[DenoisingChain.FeedSamples];
        AtomicFile.Write(outputPath, file =>
        {
            using var writer = new WavWriter(file, new WavFormat(outputRate, 1, WavSampleFormat.Pcm16), outputFrames, leaveOpen: true);
            using var chain = new DenoisingChain(
                _network, SampleRate, _maxFramesPerBatch, reader.Format.SampleRate, reader.FrameCount, outputRate, s => writer.WriteFrames(s));
            long offset = 0;
            int frames;
            while ((frames = reader.ReadMonoFrames(mono)) > 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
                Span<float> block = mono.AsSpan(0, frames);
                CheckFiniteFile(block, offset, inputPath);
                chain.Push(block);
                offset += frames;
                FileBlockRead?.Invoke(offset);
            }

            chain.Complete();
        });
    }

    private static void CheckFiniteFile(ReadOnlySpan<float> samples, long offset, string path)
    {
        int i = SampleChecks.IndexOfNonFinite(samples);
        if (i >= 0)
        {
            throw new InvalidDataException($"'{path}' holds a non-finite sample ({samples[i]}) at frame {offset + i} (after downmixing to mono); expected finite samples.");
        }
    }

    /// <inheritdoc />
    public IStreamingDenoiser CreateStream() => CreateStream(SampleRate);

    /// <inheritdoc />
    public IStreamingDenoiser CreateStream(int sampleRate)
    {
        using Lease lease = Enter();
        CheckRate(sampleRate);
        return new StreamingDenoiser(this, _network, SampleRate, sampleRate, _maxFramesPerBatch);
    }

    /// <summary>
    /// Disposes the network (when the denoiser owns it). Calls running on other threads finish first: the last of them
    /// disposes it; calls starting afterwards, and blocks fed to its streams, get an <see cref="ObjectDisposedException"/>.
    /// </summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposeRequested)
            {
                return;
            }

            _disposeRequested = true;
            if (_inFlight > 0)
            {
                return;
            }

            _disposed = true;
        }

        DisposeNetwork();
    }

    /// <summary>Marks a call as running (so that Dispose waits for it to end), or throws if the denoiser is disposed.</summary>
    internal Lease Enter()
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposeRequested, this);
            _inFlight++;
        }

        return new Lease(this);
    }

    private void Exit()
    {
        lock (_gate)
        {
            _inFlight--;
            if (_inFlight > 0 || !_disposeRequested || _disposed)
            {
                return;
            }

            _disposed = true;
        }

        DisposeNetwork();
    }

    private void DisposeNetwork()
    {
        if (_ownsNetwork)
        {
            _module.Dispose();
        }
    }

    /// <summary>One running call; disposing it ends the call.</summary>
    internal readonly struct Lease(Denoiser owner) : IDisposable
    {
        public void Dispose() => owner.Exit();
    }

    /// <summary>A rate the denoiser can resample from and to: positive, and within the resampler's ratio of the model's either way.</summary>
    private void CheckRate(int sampleRate, [CallerArgumentExpression(nameof(sampleRate))] string? name = null) =>
        CheckRate(sampleRate, SampleRate, name);

    /// <summary>A rate the resampler can take to <paramref name="modelRate"/> and back, or an exception naming <paramref name="name"/>.</summary>
    internal static void CheckRate(int sampleRate, int modelRate, string? name)
    {
        if (sampleRate <= 0)
        {
            throw new ArgumentOutOfRangeException(name, sampleRate, $"Expected a sample rate > 0 Hz; found {sampleRate}.");
        }

        if ((long)sampleRate > (long)modelRate * Resampler.MaxDownsamplingRatio)
        {
            throw new ArgumentOutOfRangeException(name, sampleRate,
                $"Expected a sample rate of at most {(long)modelRate * Resampler.MaxDownsamplingRatio} Hz ({Resampler.MaxDownsamplingRatio} × the model's {modelRate} Hz, the resampler's limit); found {sampleRate}.");
        }

        // And back: the model's output is resampled to this rate, a downsampling by at most the same ratio.
        long lowest = LowestRateBack(modelRate);
        if (sampleRate < lowest)
        {
            throw new ArgumentOutOfRangeException(name, sampleRate,
                $"Expected a sample rate of at least {lowest} Hz (the model's {modelRate} Hz / {Resampler.MaxDownsamplingRatio}, the resampler's limit); found {sampleRate}.");
        }
    }

    /// <summary>
    /// A file's rate the chain can take to the model's rate and to the output rate; found only in the file, so not an
    /// argument error, but one that names the file.
    /// </summary>
    private void CheckFileRate(string path, int inputRate, int outputRate)
    {
        int lowest = Math.Min(SampleRate, outputRate);
        long limit = (long)lowest * Resampler.MaxDownsamplingRatio;
        if (inputRate > limit)
        {
            string which = lowest == SampleRate ? $"the model's {SampleRate} Hz" : $"the output's {outputRate} Hz";
            throw new NotSupportedException(
                $"'{path}' is sampled at {inputRate} Hz; expected at most {limit} Hz ({Resampler.MaxDownsamplingRatio} × {which}, the resampler's limit).");
        }

        // And back: the model's output is resampled down to the file's rate by at most the same ratio.
        long least = LowestRateBack(SampleRate);
        if (inputRate < least)
        {
            throw new NotSupportedException(
                $"'{path}' is sampled at {inputRate} Hz; expected at least {least} Hz (the model's {SampleRate} Hz / {Resampler.MaxDownsamplingRatio}, the resampler's limit).");
        }
    }

    /// <summary>The lowest rate the model's output can be resampled down to: ⌈model rate / the resampler's largest ratio⌉.</summary>
    private static long LowestRateBack(int modelRate) =>
        ((long)modelRate + Resampler.MaxDownsamplingRatio - 1) / Resampler.MaxDownsamplingRatio;

    private void CheckInput(ReadOnlySpan<float> samples, int sampleRate)
    {
        CheckRate(sampleRate);
        if (samples.IsEmpty)
        {
            throw new ArgumentException("Expected at least one sample; found an empty signal.", nameof(samples));
        }

        CheckFinite(samples, 0);
    }

    internal static void CheckFinite(ReadOnlySpan<float> samples, long offset)
    {
        int i = SampleChecks.IndexOfNonFinite(samples);
        if (i >= 0)
        {
            throw new ArgumentException($"Expected finite samples; found {samples[i]} at index {offset + i}.", nameof(samples));
        }
    }
}

/// <summary>The <see cref="IStreamingDenoiser"/> over the shared engine.</summary>
internal sealed class StreamingDenoiser : IStreamingDenoiser
{
    private readonly Denoiser _owner;
    private readonly DenoisingChain _chain;
    private readonly List<float> _pending = [];
    private readonly StreamCallGuard _guard = new();
    private bool _disposed;

    public StreamingDenoiser(Denoiser owner, IMaskNetwork network, int modelRate, int sampleRate, int maxFramesPerBatch)
    {
        _owner = owner;
        SampleRate = sampleRate;
        // Blocks go to the engine as they come (resampled to the model's rate and back where the rates differ).
        _chain = new DenoisingChain(network, modelRate, maxFramesPerBatch, sampleRate, inputLength: null, sampleRate, s =>
        {
            _pending.AddRange(s);
            SamplesOut += s.Length;
        });
        MaxLatencySamples = _chain.LatencySamples;
    }

    public int SampleRate { get; }

    public int MaxLatencySamples { get; }

    public long SamplesOut { get; private set; }

    public float[] Process(ReadOnlySpan<float> block)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        using Denoiser.Lease lease = _owner.Enter();   // the network stays alive while this block runs
        _guard.BeforeProcess();
        Denoiser.CheckFinite(block, _chain.SamplesIn);
        try
        {
            _chain.Push(block);
        }
        catch (Exception e) when (_guard.Fail(e))   // part of the block may have gone through: what follows would not join
        {
        }

        return Drain();
    }

    public float[] Complete()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!_guard.ShouldComplete())
        {
            return [];
        }

        using Denoiser.Lease lease = _owner.Enter();
        _guard.BeginComplete(_chain.SamplesIn);
        try
        {
            _chain.Complete();
        }
        catch (Exception e) when (_guard.Fail(e))
        {
        }

        return Drain();
    }

    public void Dispose()
    {
        if (!_disposed)
        {
            _disposed = true;
            _chain.Dispose();
        }
    }

    private float[] Drain()
    {
        float[] result = [.. _pending];
        _pending.Clear();
        return result;
    }
}
