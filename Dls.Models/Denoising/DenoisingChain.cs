using Dls.Audio.Resampling;

namespace Dls.Models.Denoising;

/// <summary>
/// What <see cref="Denoiser"/> does to samples, a block at a time: input rate → model rate → the engine → input rate,
/// cut or zero-padded to the input's length → output rate, each resampling step (<see cref="ResamplingStream"/>) only
/// where the two rates differ. One chain serves <see cref="Denoiser.Denoise"/>, <see cref="Denoiser.DenoiseFile"/> and
/// the streams of <see cref="Denoiser.CreateStream(int)"/>.
/// </summary>
/// <remarks>
/// <para>For a whole signal (a known input length) the engine is fed blocks of <see cref="FeedSamples"/>
/// from the start (the last one shorter): its batches of frames, and so its float rounding, do not depend on the sizes
/// of the blocks pushed here, so an array and a file give the same bits however their blocks arrive. A stream
/// (no length given) feeds the engine each block as it comes, for the least latency; its output equals
/// the whole signal's to float rounding.</para>
/// <para>Memory is bounded: at most one feed block, the resamplers' filter windows and the engine's frames in flight.</para>
/// </remarks>
internal sealed class DenoisingChain : IDisposable
{
    /// <summary>Samples at the model's rate handed to the engine at once for a whole signal.</summary>
    internal const int FeedSamples = 1 << 16;

    private readonly MaskingStream _engine;
    private readonly ResamplingStream? _toModel;
    private readonly ResamplingStream? _fromModel;
    private readonly ResamplingStream? _toOutput;
    private readonly Action<ReadOnlySpan<float>> _atInputRate;
    private readonly float[]? _feed;
    private long? _inputLength;   // known up front for a whole signal, at Complete for a stream
    private int _fed;
    private long _kept;           // samples back at the input rate passed on: at most the input's length

    /// <param name="network">The mask network.</param>
    /// <param name="modelRate">The rate the network works at, in Hz.</param>
    /// <param name="maxFramesPerBatch">Most frames given to the network at once.</param>
    /// <param name="inputRate">The rate of the samples pushed, in Hz.</param>
    /// <param name="inputLength">For a whole signal, how many samples will be pushed (the output at the input rate has
    /// exactly as many); null for a stream, whose length is what has been pushed when it completes.</param>
    /// <param name="outputRate">The rate of the samples handed to <paramref name="sink"/>, in Hz.</param>
    /// <param name="sink">Receives the denoised samples in order (each span valid only during the call).</param>
    public DenoisingChain(IMaskNetwork network, int modelRate, int maxFramesPerBatch, int inputRate, long? inputLength, int outputRate, Action<ReadOnlySpan<float>> sink)
    {
        _inputLength = inputLength;
        _feed = inputLength is null ? null : new float[FeedSamples];
        _toOutput = outputRate == inputRate ? null : Resampler.GetShared(inputRate, outputRate).CreateStream(sink);
        _atInputRate = _toOutput is null ? sink : _toOutput.Push;
        int latency = MaskingStream.LatencySamples(network);
        if (inputRate != modelRate)
        {
            var toModel = Resampler.GetShared(inputRate, modelRate);
            var fromModel = Resampler.GetShared(modelRate, inputRate);
            _toModel = toModel.CreateStream(Feed);
            _fromModel = fromModel.CreateStream(KeepInputLength);
            latency = LatencyThereAndBack(toModel, fromModel, latency);
        }

        LatencySamples = latency;
        _engine = new MaskingStream(network, _fromModel is null ? s => _atInputRate(s) : s => _fromModel.Push(s), maxFramesPerBatch);
    }

    /// <summary>
    /// The most samples at <paramref name="toModel"/>'s input rate an output sample waits for when a stage of
    /// <paramref name="modelLatency"/> samples at the model's rate is resampled there and back: each stage's lag in its
    /// own input samples, carried to the input rate, +1 for each rounding; in doubles and capped, for a stage that holds
    /// everything back (<see cref="int.MaxValue"/>).
    /// </summary>
    internal static int LatencyThereAndBack(Resampler toModel, Resampler fromModel, int modelLatency)
    {
        double lag = toModel.StreamLagSamples + (((double)modelLatency + fromModel.StreamLagSamples) * toModel.InputRate / toModel.OutputRate);
        return (int)Math.Min(Math.Ceiling(lag) + 2, int.MaxValue);
    }

    /// <summary>
    /// The most input samples (at the input rate) an output sample waits for in a stream: the engine's latency, plus,
    /// where the input is resampled, the lag of the resampling there and back.
    /// </summary>
    public int LatencySamples { get; }

    /// <summary>Input samples pushed so far.</summary>
    public long SamplesIn { get; private set; }

    /// <summary>Adds the next input samples (at the input rate); hands on whatever output is final.</summary>
    public void Push(ReadOnlySpan<float> block)
    {
        SamplesIn += block.Length;
        if (_toModel is null)
        {
            Feed(block);
        }
        else
        {
            _toModel.Push(block);
        }
    }

    /// <summary>Ends the input and hands on the rest of the output.</summary>
    public void Complete()
    {
        _inputLength ??= SamplesIn;
        _toModel?.Complete();
        if (_fed > 0)
        {
            _engine.Push(_feed.AsSpan(0, _fed));
            _fed = 0;
        }

        _engine.Complete();
        if (_fromModel is not null)
        {
            _fromModel.Complete();
            // Resampling there and back can come out short (a sample or so; up to rate / 32,000 for a high input rate):
            // zeros, as Array.Resize would give.
            Span<float> zeros = stackalloc float[256];
            zeros.Clear();
            while (_kept < _inputLength)
            {
                int n = (int)Math.Min(zeros.Length, _inputLength.Value - _kept);
                _atInputRate(zeros[..n]);
                _kept += n;
            }
        }

        _toOutput?.Complete();
    }

    /// <inheritdoc />
    public void Dispose() => _engine.Dispose();

    private void Feed(ReadOnlySpan<float> samples)
    {
        if (_feed is null)
        {
            _engine.Push(samples);
            return;
        }

        while (!samples.IsEmpty)
        {
            if (_fed == 0 && samples.Length >= FeedSamples)
            {
                // A whole feed block already in hand (Denoise's and DenoiseFile's blocks are exactly this size): the
                // same block the engine would get from the copy, without the copy.
                _engine.Push(samples[..FeedSamples]);
                samples = samples[FeedSamples..];
                continue;
            }

            int take = Math.Min(samples.Length, FeedSamples - _fed);
            samples[..take].CopyTo(_feed.AsSpan(_fed));
            _fed += take;
            samples = samples[take..];
            if (_fed == FeedSamples)
            {
                _engine.Push(_feed);
                _fed = 0;
            }
        }
    }

    private void KeepInputLength(ReadOnlySpan<float> samples)
    {
        // A stream's length is known only at Complete; until then what comes back is shorter than what went in (the
        // engine and both resamplers hold samples back, and the rounding of the two lengths cannot make up for that),
        // so nothing passed on before Complete can lie past the end.
        long limit = _inputLength ?? SamplesIn;
        int take = (int)Math.Min(samples.Length, limit - _kept);
        if (_inputLength is null && take < samples.Length)
        {
            throw new InvalidOperationException(
                $"Internal error: {_kept + samples.Length} samples came back from the model's rate after {SamplesIn} went in.");
        }

        if (take > 0)
        {
            _atInputRate(samples[..take]);
            _kept += take;
        }
    }
}
