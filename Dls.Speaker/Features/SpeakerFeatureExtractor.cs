using Dls.Audio.Spectral;
using TorchSharp;
using static TorchSharp.torch;

namespace Dls.Speaker.Features;

/// <summary>
/// Waveform → frame features for the speaker encoder, through Dls.Audio's STFT (periodic Hann, centred) and mel
/// filterbank. Stateless apart from the precomputed window/filters; safe to share between threads.
/// </summary>
public sealed class SpeakerFeatureExtractor : IDisposable
{
    private readonly Stft? _stft;
    private readonly LogMelSpectrogram? _logMel;
    // Kept alive with the extractor: a temporary Scalar can be finalized while native code reads it (see Scalars).
    private readonly Scalar _logFloor;

    /// <summary>Creates the extractor.</summary>
    /// <exception cref="ArgumentException">The options are invalid (every problem is listed).</exception>
    public SpeakerFeatureExtractor(SpeakerFeatureOptions? options = null)
    {
        options ??= new SpeakerFeatureOptions();
        var errors = options.Validate();
        if (errors.Count > 0) throw new ArgumentException("Invalid SpeakerFeatureOptions: " + string.Join(" ", errors), nameof(options));
        Options = options;
        _logFloor = options.LogFloor.ToScalar();
        var stftOptions = new StftOptions { NFft = options.NFft, HopLength = options.HopLength };
        if (options.Kind == SpeakerFeatureKind.LogMel)
            _logMel = new LogMelSpectrogram(stftOptions, new MelOptions { SampleRate = options.SampleRate, NFft = options.NFft, MelCount = options.MelBins }, power: 2.0, offset: options.LogFloor);
        else
            _stft = new Stft(stftOptions);
    }

    /// <summary>The feature settings.</summary>
    public SpeakerFeatureOptions Options { get; }

    /// <summary>
    /// Frames produced for <paramref name="samples"/> samples, as the centred STFT makes them
    /// (<see cref="StftOptions.FrameCount"/>: 1 + samples / hop for an even NFft, 1 + (samples − 1) / hop for an odd one).
    /// </summary>
    public long FrameCount(long samples) => new StftOptions { NFft = Options.NFft, HopLength = Options.HopLength }.FrameCount(samples);

    /// <summary>
    /// The fewest samples accepted: more than n_fft / 2, the rule <see cref="SpeakerFeatureSet.Load"/> applies to files.
    /// The centred STFT zero-pads n_fft / 2 samples at each end, so shorter input still yields a frame, but one that is
    /// mostly padding (for no samples at all, a frame of the log floor) and describes no voice.
    /// </summary>
    internal int MinimumSamples => Options.NFft / 2 + 1;

    /// <summary>The rule <see cref="MinimumSamples"/> states and the length found, for every caller's message.</summary>
    internal string TooShortForOneFrame(long samples) =>
        $"expected more than {Options.NFft / 2} samples for one STFT frame (n_fft {Options.NFft}), found {samples}";

    /// <summary>Computes features.</summary>
    /// <param name="waveform">Shape (samples) or (batch, samples), float32, at <see cref="SpeakerFeatureOptions.SampleRate"/>,
    /// with more than n_fft / 2 samples.</param>
    /// <returns>Shape (frames, FeatureSize) or (batch, frames, FeatureSize).</returns>
    /// <exception cref="ArgumentException">Another rank, or too few samples for one frame (the message gives the shape or
    /// length found).</exception>
    public Tensor Forward(Tensor waveform)
    {
        ArgumentNullException.ThrowIfNull(waveform);
        if (waveform.dim() is not (1 or 2))
            throw new ArgumentException($"Expected a waveform of shape (samples) or (batch, samples), found shape ({string.Join(", ", waveform.shape)}).", nameof(waveform));
        if (waveform.shape[^1] < MinimumSamples)
            throw new ArgumentException($"Waveform too short: {TooShortForOneFrame(waveform.shape[^1])}.", nameof(waveform));
        using var scope = NewDisposeScope();
        Tensor binsByFrames;
        if (_logMel is not null)
        {
            binsByFrames = _logMel.Forward(waveform);
        }
        else
        {
            var magnitude = Spectrum.Magnitude(_stft!.Forward(waveform));
            binsByFrames = Options.Kind == SpeakerFeatureKind.LogMagnitude ? magnitude.add(_logFloor, Scalars.One).log() : magnitude;
        }
        // (…, bins, frames) → (…, frames, bins): the encoder reads one frame per time step.
        return scope.MoveToOuter(binsByFrames.transpose(-1, -2).contiguous());
    }

    /// <summary>Computes features of plain samples.</summary>
    /// <returns>Shape (frames, FeatureSize).</returns>
    /// <exception cref="ArgumentException">Too few samples for one frame (more than n_fft / 2 are needed).</exception>
    public Tensor Forward(ReadOnlySpan<float> samples)
    {
        using var scope = NewDisposeScope();
        var x = tensor(samples.ToArray());
        return scope.MoveToOuter(Forward(x));
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _stft?.Dispose();
        _logMel?.Dispose();
        _logFloor.Dispose();
    }
}
