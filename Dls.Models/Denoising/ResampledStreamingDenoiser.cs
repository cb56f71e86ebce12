using Dls.Audio.Resampling;

namespace Dls.Models.Denoising;

/// <summary>
/// A stream at another rate over any denoiser's model-rate stream: each block is resampled to the model's rate as it
/// arrives, handed to the inner stream, and what that returns is resampled back, cut to the input's length at the end
/// (padded with zeros where the two resamplings come out a sample or so short). What
/// <see cref="IDenoiser.CreateStream(int)"/> gives by default, so that an implementation that only streams at its
/// model's rate (<see cref="IDenoiser.CreateStream()"/>) streams at every rate. Its output equals that of
/// <see cref="Denoiser"/>'s own streams at that rate: the same resampling steps around the same model-rate blocks.
/// </summary>
internal sealed class ResampledStreamingDenoiser : IStreamingDenoiser
{
    private readonly IStreamingDenoiser _inner;
    private readonly ResamplingStream _toModel;
    private readonly ResamplingStream _fromModel;
    private readonly List<float> _pending = [];
    private long _samplesIn;
    private long _innerIn;
    private long _innerOut;
    private long _kept;
    private readonly StreamCallGuard _guard = new();
    private bool _disposed;

    private ResampledStreamingDenoiser(IStreamingDenoiser inner, int sampleRate)
    {
        _inner = inner;
        SampleRate = sampleRate;
        var toModel = Resampler.GetShared(sampleRate, inner.SampleRate);
        var fromModel = Resampler.GetShared(inner.SampleRate, sampleRate);
        _fromModel = fromModel.CreateStream(Keep);
        _toModel = toModel.CreateStream(block =>
        {
            _innerIn += block.Length;
            _fromModel.Push(FromInner(_inner.Process(block)));
        });
        MaxLatencySamples = DenoisingChain.LatencyThereAndBack(toModel, fromModel, inner.MaxLatencySamples);
    }

    /// <summary>
    /// Starts a stream at <paramref name="sampleRate"/> over a new model-rate stream of <paramref name="denoiser"/>
    /// (disposed with this one).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The rate is not positive, or more than the resampler's limit of
    /// 100,000 times the model's.</exception>
    /// <exception cref="InvalidOperationException">The denoiser's model rate is not positive, or its stream is null, not at
    /// that rate, or reports a negative latency.</exception>
    public static IStreamingDenoiser Over(IDenoiser denoiser, int sampleRate)
    {
        ArgumentNullException.ThrowIfNull(denoiser);
        if (denoiser.SampleRate <= 0)
        {
            throw new InvalidOperationException($"{denoiser.GetType().Name}.SampleRate is {denoiser.SampleRate} Hz; expected a positive model rate.");
        }

        Denoiser.CheckRate(sampleRate, denoiser.SampleRate, nameof(sampleRate));
        IStreamingDenoiser inner = denoiser.CreateStream()
            ?? throw new InvalidOperationException($"{denoiser.GetType().Name}.CreateStream() returned null; expected a stream at {denoiser.SampleRate} Hz.");
        if (inner.SampleRate != denoiser.SampleRate || inner.MaxLatencySamples < 0)
        {
            inner.Dispose();
            throw new InvalidOperationException(inner.SampleRate != denoiser.SampleRate
                ? $"{denoiser.GetType().Name}.CreateStream() returned a stream at {inner.SampleRate} Hz; expected the model's rate, {denoiser.SampleRate} Hz."
                : $"{denoiser.GetType().Name}.CreateStream() returned a stream with MaxLatencySamples {inner.MaxLatencySamples}; expected ≥ 0.");
        }

        if (sampleRate == inner.SampleRate)
        {
            return inner;
        }

        try
        {
            return new ResampledStreamingDenoiser(inner, sampleRate);
        }
        catch
        {
            inner.Dispose();   // the caller never sees it
            throw;
        }
    }

    /// <inheritdoc />
    public int SampleRate { get; }

    /// <inheritdoc />
    public int MaxLatencySamples { get; }

    /// <inheritdoc />
    public long SamplesOut { get; private set; }

    /// <inheritdoc />
    public float[] Process(ReadOnlySpan<float> block)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        _guard.BeforeProcess();

        // Checked here, so that the index is at this stream's rate (the inner stream would count at the model's), and
        // before anything is pushed: a refused block leaves the stream as it was.
        Denoiser.CheckFinite(block, _samplesIn);
        _samplesIn += block.Length;
        try
        {
            _toModel.Push(block);
        }
        catch (Exception e) when (_guard.Fail(e))   // part of the block may have gone through: what follows would not join
        {
        }

        return Drain();
    }

    /// <inheritdoc />
    public float[] Complete()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!_guard.ShouldComplete())
        {
            return [];
        }

        _guard.BeginComplete(_samplesIn);
        try
        {
            _toModel.Complete();
            _fromModel.Push(FromInner(_inner.Complete()));
            if (_innerOut != _innerIn)
            {
                throw new InvalidOperationException(
                    $"{_inner.GetType().Name} returned {_innerOut} samples in all for the {_innerIn} it was given; a completed stream's output is as long as its input.");
            }

            _fromModel.Complete();
        }
        catch (Exception e) when (_guard.Fail(e))
        {
        }

        // Resampling there and back can come out a sample or so short: zeros, as for Denoiser's own streams.
        int missing = (int)(_samplesIn - _kept);
        if (missing > 0)
        {
            _pending.AddRange(new float[missing]);
            _kept += missing;
            SamplesOut += missing;
        }

        return Drain();
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (!_disposed)
        {
            _disposed = true;
            _inner.Dispose();
        }
    }

    private float[] FromInner(float[] samples)
    {
        if (samples is null)
        {
            throw new InvalidOperationException($"{_inner.GetType().Name} returned null; expected an array of output samples (possibly empty).");
        }

        _innerOut += samples.Length;
        return samples;
    }

    private void Keep(ReadOnlySpan<float> samples)
    {
        // Past the input's end (known once complete) is what the two resamplings add; before Complete, more than has gone
        // in would mean the inner stream returned samples it was not given.
        int take = (int)Math.Min(samples.Length, _samplesIn - _kept);
        if (!_guard.Completed && take < samples.Length)
        {
            throw new InvalidOperationException(
                $"{_inner.GetType().Name} returned more samples than it was given: {_kept + samples.Length} came back at {SampleRate} Hz after {_samplesIn} went in.");
        }

        _pending.AddRange(samples[..take]);
        _kept += take;
        SamplesOut += take;
    }

    private float[] Drain()
    {
        float[] result = [.. _pending];
        _pending.Clear();
        return result;
    }
}
