using Dls.Audio.Resampling;

namespace Dls.Models.Denoising;

/// <summary>
/// What <see cref="Denoiser"/> does to samples, a block at a time: input rate → model rate → the engine → input rate,
/// cut or zero-padded to the input's length → output rate, each resampling step (<see cref="ResamplingStream"/>) only
/// where the two rates differ. One chain serves <see cref="Denoiser.Denoise"/> and <see cref="Denoiser.DenoiseFile"/>,
/// so an array and a file give the same samples however their blocks arrive.
/// </summary>
/// <remarks>
/// The engine is always fed blocks of <see cref="FeedSamples"/> from the start of the signal (the last one shorter):
/// its batches of frames, and so its float rounding, do not depend on the sizes of the blocks pushed here. Memory is
/// bounded: one feed block, the resamplers' filter windows and the engine's frames in flight.
/// </remarks>
internal sealed class DenoisingChain : IDisposable
{
    /// <summary>Samples at the model's rate handed to the engine at once.</summary>
    internal const int FeedSamples = 1 << 16;

    private readonly MaskingStream _engine;
    private readonly ResamplingStream? _toModel;
    private readonly ResamplingStream? _fromModel;
    private readonly ResamplingStream? _toOutput;
    private readonly Action<ReadOnlySpan<float>> _atInputRate;
    private readonly long _inputLength;
    private readonly float[] _feed = new float[FeedSamples];
    private int _fed;
    private long _kept;   // samples back at the input rate passed on: the first _inputLength of what comes back

    /// <param name="network">The mask network.</param>
    /// <param name="modelRate">The rate the network works at, in Hz.</param>
    /// <param name="maxFramesPerBatch">Most frames given to the network at once.</param>
    /// <param name="inputRate">The rate of the samples pushed, in Hz.</param>
    /// <param name="inputLength">How many samples will be pushed (the output at the input rate has exactly as many).</param>
    /// <param name="outputRate">The rate of the samples handed to <paramref name="sink"/>, in Hz.</param>
    /// <param name="sink">Receives the denoised samples in order (each span valid only during the call).</param>
    public DenoisingChain(IMaskNetwork network, int modelRate, int maxFramesPerBatch, int inputRate, long inputLength, int outputRate, Action<ReadOnlySpan<float>> sink)
    {
        _inputLength = inputLength;
        _toOutput = outputRate == inputRate ? null : new Resampler(inputRate, outputRate).CreateStream(sink);
        _atInputRate = _toOutput is null ? sink : _toOutput.Push;
        if (inputRate != modelRate)
        {
            _toModel = new Resampler(inputRate, modelRate).CreateStream(Feed);
            _fromModel = new Resampler(modelRate, inputRate).CreateStream(KeepInputLength);
        }

        _engine = new MaskingStream(network, _fromModel is null ? s => _atInputRate(s) : s => _fromModel.Push(s), maxFramesPerBatch);
    }

    /// <summary>Adds the next input samples (at the input rate); hands on whatever output is final.</summary>
    public void Push(ReadOnlySpan<float> block)
    {
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
                int n = (int)Math.Min(zeros.Length, _inputLength - _kept);
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
        while (!samples.IsEmpty)
        {
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
        int take = (int)Math.Min(samples.Length, _inputLength - _kept);
        if (take > 0)
        {
            _atInputRate(samples[..take]);
            _kept += take;
        }
    }
}
