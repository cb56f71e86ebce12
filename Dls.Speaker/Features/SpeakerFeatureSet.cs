using Dls.Audio;
using Dls.Audio.IO;
using Dls.Audio.Resampling;
using Dls.Speaker.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace Dls.Speaker.Features;

/// <summary>
/// The features of every utterance of a <see cref="SpeakerDataset"/>, computed once and kept in memory
/// (a corpus of 768 two-second utterances is about 100 MB as 513-bin float32 frames). Owns its tensors.
/// </summary>
public sealed class SpeakerFeatureSet : IDisposable
{
    private readonly Tensor[] _features;

    private SpeakerFeatureSet(SpeakerDataset dataset, Tensor[] features, SpeakerFeatureOptions options)
    {
        Dataset = dataset;
        _features = features;
        Options = options;
    }

    /// <summary>The utterances, in the order of <see cref="Features"/>.</summary>
    public SpeakerDataset Dataset { get; }

    /// <summary>The feature settings used.</summary>
    public SpeakerFeatureOptions Options { get; }

    /// <summary>Features per utterance, each (frames, FeatureSize), aligned with <see cref="SpeakerDataset.Utterances"/>.</summary>
    public IReadOnlyList<Tensor> Features => _features;

    /// <summary>Total number of frames.</summary>
    public long TotalFrames => _features.Sum(f => f.shape[0]);

    /// <summary>Loads every utterance (resampled to the feature rate) and computes its features.</summary>
    /// <param name="dataset">The utterances.</param>
    /// <param name="extractor">The feature extractor.</param>
    /// <param name="progress">Receives the number of utterances done; may be null.</param>
    /// <param name="cancellationToken">Checked between files.</param>
    /// <exception cref="InvalidDataException">A file is malformed, holds a NaN/∞ sample (the message gives the file and
    /// sample index), or is too short for one frame of features.</exception>
    public static SpeakerFeatureSet Load(SpeakerDataset dataset, SpeakerFeatureExtractor extractor, IProgress<int>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentNullException.ThrowIfNull(extractor);
        var features = new Tensor[dataset.Utterances.Count];
        try
        {
            for (int i = 0; i < features.Length; i++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var u = dataset.Utterances[i];
                // Checked at the file's own rate, so the index points into the file; resampling would smear a NaN over
                // its neighbours and on into the input normalization of the whole training set.
                var native = AudioFile.Load(u.Path);
                var samples = native.Samples;
                int bad = SampleChecks.IndexOfNonFinite(samples);
                if (bad >= 0)
                    throw new InvalidDataException($"'{u.Path}': expected finite samples, found {samples[bad]} at sample {bad} of {samples.Length}.");
                var signal = Resampler.Resample(native, extractor.Options.SampleRate);
                if (signal.Length < extractor.MinimumSamples)
                    throw new InvalidDataException($"'{u.Path}': {extractor.TooShortForOneFrame(signal.Length)}.");
                using var scope = NewDisposeScope();
                features[i] = scope.MoveToOuter(extractor.Forward(signal.Samples)).DetachFromDisposeScope();
                progress?.Report(i + 1);
            }
        }
        catch
        {
            foreach (var f in features) f?.Dispose();
            throw;
        }
        return new SpeakerFeatureSet(dataset, features, extractor.Options);
    }

    /// <summary>Per-bin mean and 1/std over all frames (the encoder's input normalization).</summary>
    /// <returns>Two tensors of shape (FeatureSize).</returns>
    /// <exception cref="InvalidOperationException">The set holds no utterance, or a single frame (no standard deviation).</exception>
    public (Tensor Mean, Tensor Scale) Statistics()
    {
        long frames = TotalFrames;
        if (_features.Length == 0 || frames < 2)
            throw new InvalidOperationException($"Feature statistics need at least 1 utterance and 2 frames; this set holds {_features.Length} utterances and {frames} frames.");
        using var scope = NewDisposeScope();
        var all = cat(_features, 0);
        var mean = all.mean([0]);
        // The 1e-3 floor keeps bins that are constant in the data (e.g. above a band limit) from exploding.
        var scale = 1 / (all.std([0]) + 1e-3);
        return (scope.MoveToOuter(mean), scope.MoveToOuter(scale));
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var f in _features) f.Dispose();
    }
}
