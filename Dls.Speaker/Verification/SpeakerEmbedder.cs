using System.Runtime.InteropServices;
using Dls.Audio;
using Dls.Audio.IO;
using Dls.Audio.Levels;
using Dls.Audio.Resampling;
using Dls.Speaker.Encoders;
using Dls.Speaker.Features;
using TorchSharp;
using static TorchSharp.torch;

namespace Dls.Speaker.Verification;

/// <summary>
/// The façade over a trained <see cref="GruSpeakerEncoder"/>: audio (<c>float[]</c> or WAV files) in, unit-length
/// embeddings out. It owns eval mode, <c>no_grad</c>, dispose scopes, resampling, windowing of long audio and input
/// checks, and the centering of <see cref="SpeakerModel.EmbeddingMean"/> when the model has one; torch never shows. Thread-safe: calls from many threads are serialized around the model (torch already uses
/// every core inside one forward pass).
/// </summary>
public sealed class SpeakerEmbedder : IDisposable
{
    private readonly GruSpeakerEncoder _encoder;
    private readonly SpeakerFeatureExtractor _extractor;
    private readonly object _gate = new();
    private bool _disposed;

    /// <summary>Creates an embedder; it takes ownership of <paramref name="model"/>'s encoder.</summary>
    /// <exception cref="ArgumentException">Invalid options, features whose size is not the encoder's input size, or an
    /// <see cref="SpeakerModel.EmbeddingMean"/> of another length than the embeddings.</exception>
    public SpeakerEmbedder(SpeakerModel model, SpeakerEmbedderOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        options ??= new SpeakerEmbedderOptions();
        var errors = options.Validate();
        if (errors.Count > 0) throw new ArgumentException("Invalid SpeakerEmbedderOptions: " + string.Join(" ", errors), nameof(options));
        if (model.Features.FeatureSize != model.Encoder.Options.InputSize)
            throw new ArgumentException($"The model's features give {model.Features.FeatureSize} values per frame ({model.Features.Kind}), its encoder expects InputSize = {model.Encoder.Options.InputSize}.", nameof(model));
        if (model.EmbeddingMean is { } mean && mean.Count != model.Encoder.Options.EmbeddingSize)
            throw new ArgumentException($"The model's EmbeddingMean has {mean.Count} values; its encoder makes embeddings of {model.Encoder.Options.EmbeddingSize}.", nameof(model));
        Options = options;
        Model = model;
        _encoder = model.Encoder;
        _encoder.eval();
        _extractor = new SpeakerFeatureExtractor(model.Features);
    }

    /// <summary>The model (encoder, features, threshold).</summary>
    public SpeakerModel Model { get; }

    /// <summary>Input handling settings.</summary>
    public SpeakerEmbedderOptions Options { get; }

    /// <summary>The rate the model works at, in Hz (other rates are resampled).</summary>
    public int SampleRate => Model.Features.SampleRate;

    /// <summary>Length of the embeddings.</summary>
    public int EmbeddingSize => _encoder.Options.EmbeddingSize;

    /// <summary>
    /// Embeds one utterance. Longer than one window it is embedded in windows that are averaged; at another rate than
    /// the model's it is then resampled block by block as the windows are collected, not copied whole first.
    /// </summary>
    /// <param name="samples">Mono audio in [−1, 1].</param>
    /// <param name="sampleRate">Its rate in Hz.</param>
    /// <returns>A unit-length embedding of <see cref="EmbeddingSize"/> values.</returns>
    /// <exception cref="ArgumentException">Too short (under <see cref="SpeakerEmbedderOptions.MinDurationSeconds"/>, or one STFT
    /// frame), silent, or containing NaN/∞; a rate ≤ 0, or above 100,000 times the model's (the resampler's limit; an
    /// <see cref="ArgumentOutOfRangeException"/>).</exception>
    public float[] Embed(ReadOnlySpan<float> samples, int sampleRate)
    {
        CheckRate(sampleRate);
        if (sampleRate != SampleRate && ModelRateLength(samples.Length, sampleRate) > WindowSamples)
        {
            // A recording longer than one window at another rate: resampled as its windows are collected, block by
            // block, instead of as a whole copy first (the same windows and result, to the bit).
            Check(samples, sampleRate, "audio");
            var embedding = new WindowedEmbedding(this, sampleRate, samples.Length);
            for (int start = 0; start < samples.Length; start += WindowedEmbedding.BlockSamples)
                embedding.Push(samples.Slice(start, Math.Min(WindowedEmbedding.BlockSamples, samples.Length - start)));
            return embedding.Complete();
        }

        float[]? resampled = Prepare(samples, sampleRate, "audio");
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return EmbedPrepared(resampled ?? samples);
        }
    }

    /// <summary>
    /// Embeds a WAV file (any rate and channel count; channels averaged). A file longer than one window (at the model's
    /// rate) is read, resampled and embedded a block at a time, so its length does not bound memory; shorter ones are
    /// loaded whole. Read block by block, a silent file is refused once it has been read (and embedded), a non-finite
    /// sample when its block arrives, and a <see cref="Dispose"/> from another thread takes effect between two batches
    /// of windows.
    /// </summary>
    /// <exception cref="InvalidDataException">The file is malformed.</exception>
    /// <exception cref="ArgumentException">The audio is too short, silent or not finite (the message names the file).</exception>
    /// <exception cref="NotSupportedException">The file's rate is above 100,000 times the model's (the resampler's limit).</exception>
    public float[] EmbedFile(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        AudioSignal signal;
        using (var reader = new WavReader(path))
        {
            if (reader.Format.SampleRate > MaxRate)
                throw new NotSupportedException($"The file '{path}' is sampled at {reader.Format.SampleRate} Hz; expected at most {MaxRate} Hz ({Resampler.MaxDownsamplingRatio} × the model's {SampleRate} Hz, the resampler's limit).");
            // A recording longer than one window is read and embedded a window batch at a time (memory bounded for any
            // length); the result is the whole file's, to the bit.
            if (ModelRateLength(reader) > WindowSamples)
                return EmbedFileInWindows(reader, $"file '{path}'");
            signal = WavFile.Read(reader).ToSignal();   // what AudioFile.Load gives, without opening the file again
        }
        float[] audio = Prepare(signal.Samples, signal.SampleRate, $"file '{path}'") ?? signal.Samples;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return EmbedPrepared(audio);
        }
    }

    /// <summary>Embeds many utterances at the same rate, batching those short enough to be embedded whole.</summary>
    /// <returns>One embedding per utterance, in order.</returns>
    /// <exception cref="ArgumentException">An utterance is null, too short, silent or not finite (the message gives its index),
    /// or the rate is ≤ 0 or above 100,000 times the model's (<see cref="ArgumentOutOfRangeException"/>).</exception>
    public float[][] EmbedMany(IReadOnlyList<float[]> utterances, int sampleRate) => EmbedMany(utterances, sampleRate, i => $"utterance {i}");

    /// <summary>As <see cref="EmbedMany(IReadOnlyList{float[]}, int)"/>, naming utterance i by <paramref name="describe"/>(i) in errors.</summary>
    internal float[][] EmbedMany(IReadOnlyList<float[]> utterances, int sampleRate, Func<int, string> describe)
    {
        ArgumentNullException.ThrowIfNull(utterances);
        var prepared = utterances.Select((u, i) => Prepare(u ?? throw new ArgumentNullException(nameof(utterances), $"Utterance {i} is null."), sampleRate, describe(i)) ?? u).ToArray();
        int window = WindowSamples;
        var result = new float[prepared.Length][];
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var whole = Enumerable.Range(0, prepared.Length).Where(i => prepared[i].Length <= window).ToArray();
            using (var scope = NewDisposeScope())
            {
                var features = whole.Select(i => _extractor.Forward(prepared[i])).ToArray();
                var embeddings = whole.Length == 0 ? [] : EncoderBatching.EmbedAll(_encoder, features);
                for (int k = 0; k < whole.Length; k++) result[whole[k]] = embeddings[k];
            }
            for (int k = 0; k < whole.Length; k++) result[whole[k]] = Centered(result[whole[k]]);
            for (int i = 0; i < prepared.Length; i++)
                result[i] ??= EmbedPrepared(prepared[i]);
        }
        return result;
    }

    private float[] Centered(float[] embedding) => Model.EmbeddingMean is { } mean ? SpeakerEmbeddings.Center(embedding, mean) : embedding;

    private int WindowSamples => (int)Math.Round(Options.WindowSeconds * SampleRate);

    /// <summary>Checks the samples; returns them resampled to the model's rate, or null when they are at it (used as given, not copied).</summary>
    private float[]? Prepare(ReadOnlySpan<float> samples, int sampleRate, string what)
    {
        Check(samples, sampleRate, what);
        return sampleRate == SampleRate ? null : Resampler.Resample(samples, sampleRate, SampleRate);
    }

    /// <summary>Refuses a bad rate, too few samples (at the given rate, and for one STFT frame at the model's), non-finite samples and silence.</summary>
    private void Check(ReadOnlySpan<float> samples, int sampleRate, string what)
    {
        CheckRate(sampleRate);
        int minimum = (int)Math.Ceiling(Options.MinDurationSeconds * sampleRate);
        if (samples.Length < minimum)
            throw new ArgumentException($"The {what} is too short: expected at least {minimum} samples ({Options.MinDurationSeconds:0.###} s at {sampleRate} Hz), found {samples.Length}.", nameof(samples));
        int bad = SampleChecks.IndexOfNonFinite(samples);
        if (bad >= 0) throw NonFinite(what, samples[bad], bad);
        CheckLevel(AudioLevels.RmsDbfs(samples), what);
        // MinDurationSeconds may be set below one STFT frame; checked at the model's rate, the length the extractor sees.
        long length = ModelRateLength(samples.Length, sampleRate);
        if (length < _extractor.MinimumSamples)
            throw new ArgumentException($"The {what} is too short: {_extractor.TooShortForOneFrame((int)length)} at {SampleRate} Hz.", nameof(samples));
    }

    /// <summary>The highest rate the resampler takes to the model's.</summary>
    private long MaxRate => (long)SampleRate * Resampler.MaxDownsamplingRatio;

    private void CheckRate(int sampleRate)
    {
        if (sampleRate <= 0) throw new ArgumentException($"Sample rate must be a positive number of Hz, found {sampleRate}.", nameof(sampleRate));
        if (sampleRate > MaxRate)
            throw new ArgumentOutOfRangeException(nameof(sampleRate), sampleRate, $"Sample rate must be at most {MaxRate} Hz ({Resampler.MaxDownsamplingRatio} × the model's {SampleRate} Hz, the resampler's limit), found {sampleRate}.");
    }

    private static ArgumentException NonFinite(string what, float value, long index) =>
        new($"The {what} contains a non-finite sample ({value}) at index {index}; expected finite values in [−1, 1].", "samples");

    private void CheckLevel(double rmsDbfs, string what)
    {
        if (!(rmsDbfs >= Options.SilenceThresholdDbfs))
            throw new ArgumentException($"The {what} is silent: RMS level {rmsDbfs:0.0} dBFS, expected at least {Options.SilenceThresholdDbfs:0.0} dBFS.", "samples");
    }

    private float[] EmbedPrepared(ReadOnlySpan<float> audio)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        int window = WindowSamples;
        if (audio.Length <= window)
        {
            var f = _extractor.Forward(audio).unsqueeze(0);
            var e = _encoder.forward(f, tensor(new long[] { f.shape[1] }));
            return Centered(e.cpu().data<float>().ToArray());
        }

        var starts = WindowStarts(audio.Length);
        var sum = new double[EmbeddingSize];
        var windows = BatchBuffer(starts.Count);
        for (int b = 0; b < starts.Count; b += Options.MaxWindowsPerBatch)
        {
            int count = Math.Min(Options.MaxWindowsPerBatch, starts.Count - b);
            for (int w = 0; w < count; w++) audio.Slice((int)starts[b + w], window).CopyTo(windows.AsSpan(w * window, window));
            AddWindows(windows, count, sum);
        }
        return Normalized(sum);
    }

    /// <summary>The file's length in samples at the model's rate (what resampling the whole file gives).</summary>
    private long ModelRateLength(WavReader reader) => ModelRateLength(reader.FrameCount, reader.Format.SampleRate);

    /// <summary>The length at the model's rate of <paramref name="length"/> samples at <paramref name="rate"/> (what resampling them gives).</summary>
    private long ModelRateLength(long length, int rate) => rate == SampleRate ? length : Resampler.OutputLength(length, rate, SampleRate);

    /// <summary>
    /// A file longer than one window, read a block at a time and embedded by a <see cref="WindowedEmbedding"/> (the
    /// result of the whole file, to the bit). The checks are those of <see cref="Prepare"/> on the file's own samples
    /// (non-finite samples as they arrive, the level once all have).
    /// </summary>
    private float[] EmbedFileInWindows(WavReader reader, string what)
    {
        var embedding = new WindowedEmbedding(this, reader.Format.SampleRate, reader.FrameCount);
        var mono = new float[WindowedEmbedding.BlockSamples];
        double squares = 0;   // of the file's own samples, summed in order, as AudioLevels.Rms sums the whole signal
        long read = 0;
        int n;
        while ((n = reader.ReadMonoFrames(mono)) > 0)
        {
            for (int i = 0; i < n; i++)
            {
                float v = mono[i];
                if (!float.IsFinite(v)) throw NonFinite(what, v, read + i);
                squares += (double)v * v;
            }

            embedding.Push(mono.AsSpan(0, n));
            read += n;
        }
        float[] result = embedding.Complete();
        CheckLevel(20 * Math.Log10(Math.Sqrt(squares / read)), what);
        return result;
    }

    /// <summary>
    /// The windowed embedding of a recording that arrives a block at a time, at any rate: resampled as it arrives (a
    /// <see cref="ResamplingStream"/> gives what resampling the whole recording gives), each window copied out as soon as
    /// its samples are there and the windows embedded in the batches <see cref="EmbedPrepared"/> would form, so the
    /// result is the same to the bit while only the last window's worth of samples is kept.
    /// </summary>
    private sealed class WindowedEmbedding
    {
        /// <summary>Samples pushed at once by the callers (blocks arrive as pushed, or from the resampler in runs of at most 4,096).</summary>
        public const int BlockSamples = 1 << 16;

        private readonly SpeakerEmbedder _owner;
        private readonly int _window;
        private readonly List<long> _starts;
        private readonly double[] _sum;
        private readonly float[] _windows;
        private readonly SampleWindow _kept;   // samples at the model's rate from the next window's start to what has arrived
        private readonly ResamplingStream? _toModel;
        private int _next, _inBatch;

        /// <param name="owner">The embedder.</param>
        /// <param name="rate">The rate of the samples pushed, in Hz.</param>
        /// <param name="inputLength">How many samples will be pushed.</param>
        public WindowedEmbedding(SpeakerEmbedder owner, int rate, long inputLength)
        {
            _owner = owner;
            _window = owner.WindowSamples;
            _starts = owner.WindowStarts(owner.ModelRateLength(inputLength, rate));
            _sum = new double[owner.EmbeddingSize];
            _windows = owner.BatchBuffer(_starts.Count);
            _kept = new SampleWindow(0, _window + BlockSamples);
            _toModel = rate == owner.SampleRate ? null : Resampler.GetShared(rate, owner.SampleRate).CreateStream(Accept);
        }

        public void Push(ReadOnlySpan<float> block)
        {
            if (_toModel is null) Accept(block);
            else _toModel.Push(block);
        }

        public float[] Complete()
        {
            _toModel?.Complete();
            if (_inBatch > 0) _owner.AddWindows(_windows, _inBatch, _sum);
            return _owner.Normalized(_sum);
        }

        private void Accept(ReadOnlySpan<float> block)
        {
            _kept.DiscardBefore(_next < _starts.Count ? _starts[_next] : _kept.End);
            _kept.Append(block);
            while (_next < _starts.Count && _starts[_next] + _window <= _kept.End)
            {
                _kept.Slice(_starts[_next], _window).CopyTo(_windows.AsSpan(_inBatch * _window, _window));
                _next++;
                if (++_inBatch == _owner.Options.MaxWindowsPerBatch)
                {
                    _owner.AddWindows(_windows, _inBatch, _sum);
                    _inBatch = 0;
                }
            }
        }
    }

    /// <summary>Windows of <see cref="WindowSamples"/> starting every hop, the last one aligned to the end so no audio is left out.</summary>
    private List<long> WindowStarts(long length)
    {
        int window = WindowSamples;
        int hop = Math.Max(1, (int)Math.Round(window * (1 - Options.WindowOverlap)));
        var starts = new List<long>();
        for (long s = 0; s + window < length; s += hop) starts.Add(s);
        starts.Add(length - window);
        return starts;
    }

    /// <summary>
    /// Room for one batch of windows back to back. Only one batch becomes a tensor at a time (never the whole recording),
    /// so beyond the samples memory stays that of one batch for a recording of any length.
    /// </summary>
    private float[] BatchBuffer(int windowCount)
    {
        int count = Math.Min(Options.MaxWindowsPerBatch, windowCount);
        long samples = count * (long)WindowSamples;
        long limit = MaxBatchSamples;
        if (samples > limit)
            throw new ArgumentException($"A batch of {count} windows of {WindowSamples} samples is {samples} samples; expected at most {limit} (2 GiB; lower SpeakerEmbedderOptions.MaxWindowsPerBatch or WindowSeconds).", "samples");
        return new float[samples];
    }

    /// <summary>
    /// The most samples one batch of windows may hold: it is copied into its tensor through one span of bytes
    /// (<c>Tensor.bytes</c>), which holds under 2 GiB. Lowered by tests only (reaching it takes about 9 hours of audio).
    /// </summary>
    internal long MaxBatchSamples { get; init; } = int.MaxValue / sizeof(float);

    /// <summary>Adds the embeddings of the first <paramref name="count"/> windows of <paramref name="windows"/> to <paramref name="sum"/>.</summary>
    private void AddWindows(float[] windows, int count, double[] sum)
    {
        int window = WindowSamples;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            using var noGrad = no_grad();
            using var scope = NewDisposeScope();
            // Copied into the tensor's own memory: torch.tensor(Memory<float>) would first copy it into a new managed array
            // (3 MB for 16 windows of 3 s, garbage the GC's large-object heap let pile up).
            var batch = empty([count, window], dtype: ScalarType.Float32);
            windows.AsSpan(0, count * window).CopyTo(MemoryMarshal.Cast<byte, float>(batch.bytes));
            var features = _extractor.Forward(batch);                                   // (windows, frames, bins)
            var lengths = tensor(Enumerable.Repeat(features.shape[1], (int)features.shape[0]).ToArray());
            var windowSum = _encoder.forward(features, lengths).sum([0]).cpu().data<float>().ToArray();
            for (int i = 0; i < sum.Length; i++) sum[i] += windowSum[i];
        }
    }

    private float[] Normalized(double[] sum)
    {
        double norm = Math.Sqrt(sum.Sum(v => v * v));
        return Centered(sum.Select(v => (float)(v / norm)).ToArray());
    }

    /// <inheritdoc />
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            _extractor.Dispose();
            _encoder.Dispose();
        }
    }
}
