using Dls.Audio;
using TorchSharp;
using static TorchSharp.torch;

namespace Dls.Models.Denoising;

/// <summary>What a mask network's first layer reads of the noisy STFT magnitude |X|.</summary>
public enum MaskInput
{
    /// <summary><c>log(1 + |X|)</c> (<see cref="MaskFeatures.Scale(TorchSharp.torch.Tensor)"/>): the library's networks.</summary>
    Log1pMagnitude,

    /// <summary>|X| as it is: for networks trained elsewhere on the raw magnitude (the assignment's literal input).</summary>
    Magnitude,
}

/// <summary>How a mask network turns the output of its last layer into the mask.</summary>
public enum MaskActivation
{
    /// <summary>mask = MaskScale · sigmoid(output), in (0, MaskScale): the library's networks.</summary>
    Sigmoid,

    /// <summary>
    /// mask = max(output, 0), non-negative and unbounded: for networks trained elsewhere with a ReLU output (MaskScale
    /// must then be 1).
    /// </summary>
    Relu,
}

/// <summary>The input scaling every mask network applies to the noisy magnitude before its first layer.</summary>
public static class MaskFeatures
{
    /// <summary>
    /// <c>log(1 + |X|)</c> of the linear STFT magnitude (1024-point FFT of a periodic-Hann-windowed frame of samples
    /// in [-1, 1], no normalisation). The log compresses the wide range of speech spectra so that quiet bins still
    /// move the first layer; the +1 keeps silence at 0 instead of −∞. (A gain inside the log, log(1 + 1000·|X|),
    /// was tried and trained no better on the shared corpus.)
    /// </summary>
    /// <param name="magnitude">Linear magnitude, any shape.</param>
    /// <returns>The scaled features, same shape.</returns>
    public static Tensor Scale(Tensor magnitude)
    {
        ArgumentNullException.ThrowIfNull(magnitude);
        return magnitude.log1p();
    }

    /// <summary>The features a network with the given <see cref="MaskInput"/> reads: <see cref="Scale(Tensor)"/>, or the magnitude itself.</summary>
    /// <param name="magnitude">Linear magnitude, any shape.</param>
    /// <param name="input">The network's input kind.</param>
    /// <returns>A new tensor, same shape (a copy for <see cref="MaskInput.Magnitude"/>, so the caller may dispose both).</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="input"/> is not a defined value.</exception>
    public static Tensor Scale(Tensor magnitude, MaskInput input)
    {
        ArgumentNullException.ThrowIfNull(magnitude);
        return input switch
        {
            MaskInput.Log1pMagnitude => Scale(magnitude),
            MaskInput.Magnitude => magnitude.clone(),
            _ => throw new ArgumentOutOfRangeException(nameof(input), input, $"Expected a defined {nameof(MaskInput)} ({string.Join(", ", Enum.GetNames<MaskInput>())}); found {(int)input}."),
        };
    }

    /// <summary>
    /// Per-bin mean and standard deviation of the features a network reads (<see cref="Scale(Tensor, MaskInput)"/>) over
    /// every frame of the given signals, the statistics a network with <c>NormalizeInput</c> standardises its input with.
    /// </summary>
    /// <param name="signals">Noisy training signals (at least one frame in all; each at least one sample).</param>
    /// <param name="input">The input kind of the network the statistics are for (recorded in the result).</param>
    /// <returns>The statistics over 513 bins.</returns>
    /// <exception cref="ArgumentException">No signal, a null or empty one, or one with a non-finite sample (index and sample named).</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="input"/> is not a defined value.</exception>
    public static FeatureStatistics Measure(IEnumerable<float[]> signals, MaskInput input = MaskInput.Log1pMagnitude)
    {
        ArgumentNullException.ThrowIfNull(signals);
        if (!Enum.IsDefined(input))
        {
            throw new ArgumentOutOfRangeException(nameof(input), input, $"Expected a defined {nameof(MaskInput)}; found {(int)input}.");
        }

        var sum = new double[DenoisingStft.Bins];
        var sumSquares = new double[DenoisingStft.Bins];
        long frames = 0;
        using var guard = no_grad();
        int index = 0;
        foreach (float[] signal in signals)
        {
            if (signal is null || signal.Length == 0)
            {
                throw new ArgumentException($"Expected non-empty signals; found {(signal is null ? "a null" : "an empty")} one (signal {index}).", nameof(signals));
            }

            int bad = SampleChecks.IndexOfNonFinite(signal);
            if (bad >= 0)
            {
                // One NaN would make every statistic of its bins NaN, and the network's input with them.
                throw new ArgumentException($"Expected finite samples; signal {index} has {signal[bad]} at sample {bad}.", nameof(signals));
            }

            index++;

            using var scope = NewDisposeScope();
            float[] padded = signal.Length > DenoisingStft.HopLength ? signal : [.. signal, .. new float[DenoisingStft.HopLength + 1 - signal.Length]];
            // (frames, bins) in float64, so sums over many frames do not lose precision.
            Tensor f = Scale(DenoisingStft.Forward(tensor(padded).unsqueeze(0)).abs(), input).squeeze(0).to(ScalarType.Float64);
            double[] s = f.sum([0]).data<double>().ToArray();
            double[] q = f.square().sum([0]).data<double>().ToArray();
            for (int b = 0; b < s.Length; b++)
            {
                sum[b] += s[b];
                sumSquares[b] += q[b];
            }

            frames += f.shape[0];
        }

        if (frames == 0)
        {
            throw new ArgumentException("Expected at least one signal; found none.", nameof(signals));
        }

        var mean = new float[sum.Length];
        var std = new float[sum.Length];
        for (int b = 0; b < sum.Length; b++)
        {
            double m = sum[b] / frames;
            // A floor of 1e-3 keeps a bin that never varies (e.g. above a band limit) from being blown up.
            mean[b] = (float)m;
            std[b] = (float)Math.Max(1e-3, Math.Sqrt(Math.Max(0, (sumSquares[b] / frames) - (m * m))));
        }

        return new FeatureStatistics(mean, std) { Input = input };
    }
}

/// <summary>Per-bin statistics of the scaled input features (see <see cref="MaskFeatures.Measure"/>).</summary>
/// <param name="Mean">Mean per bin.</param>
/// <param name="Std">Standard deviation per bin (&gt; 0).</param>
public sealed record FeatureStatistics(float[] Mean, float[] Std)
{
    /// <summary>
    /// The input kind the statistics describe (<see cref="MaskFeatures.Measure"/> records it); a network refuses
    /// statistics of another kind, whose scale would be wrong by orders of magnitude.
    /// </summary>
    public MaskInput Input { get; init; } = MaskInput.Log1pMagnitude;

    /// <summary>Throws unless both arrays have <paramref name="bins"/> finite entries and every deviation is &gt; 0.</summary>
    /// <param name="bins">The expected number of bins.</param>
    public void Validate(int bins)
    {
        ArgumentNullException.ThrowIfNull(Mean);
        ArgumentNullException.ThrowIfNull(Std);
        if (Mean.Length != bins || Std.Length != bins)
        {
            throw new ArgumentException($"Expected {bins} means and deviations; found {Mean.Length} and {Std.Length}.");
        }

        int bad = Array.FindIndex(Std, s => !(s > 0) || !float.IsFinite(s));
        if (bad >= 0 || Mean.Any(m => !float.IsFinite(m)))
        {
            throw new ArgumentException(bad >= 0
                ? $"Expected finite deviations > 0; found {Std[bad]} at bin {bad}."
                : "Expected finite means; found a non-finite one.");
        }
    }
}

/// <summary>
/// The input scaling and standardisation and the mask output shared by the mask networks. With <c>NormalizeInput</c>
/// the network owns two buffers (state-dict keys <c>input_mean</c>, <c>input_std</c>: identity until
/// <see cref="Set"/> fills them from training data) and feeds <c>(features − mean) / std</c> to its first layer, the
/// features being <c>log1p|X|</c> or |X| (<see cref="MaskInput"/>).
/// </summary>
internal sealed class MaskInputOutput : IDisposable
{
    private readonly Tensor? _mean;
    private readonly Tensor? _std;
    private readonly Scalar _maskScale;
    private readonly bool _scaled;
    private readonly MaskInput _input;
    private readonly MaskActivation _activation;

    public MaskInputOutput(bool normalize, int bins, double maskScale, MaskInput input, MaskActivation activation)
    {
        _input = input;
        _activation = activation;
        if (normalize)
        {
            _mean = zeros(bins);
            _std = ones(bins);
        }

        _maskScale = maskScale.ToScalar();
        _scaled = maskScale != 1.0;
    }

    /// <summary>The mean buffer (to register as <c>input_mean</c>), or null.</summary>
    public Tensor? Mean => _mean;

    /// <summary>The deviation buffer (to register as <c>input_std</c>), or null.</summary>
    public Tensor? Std => _std;

    public Tensor Features(Tensor magnitude)
    {
        Tensor f = MaskFeatures.Scale(magnitude, _input);
        return _mean is null ? f : f.sub(_mean).div(_std!);
    }

    /// <summary>Mask = scale · sigmoid(logits), in (0, scale); or max(logits, 0) for <see cref="MaskActivation.Relu"/>.</summary>
    public Tensor Mask(Tensor logits)
    {
        if (_activation == MaskActivation.Relu)
        {
            return nn.functional.relu(logits);
        }

        Tensor m = nn.functional.sigmoid(logits);
        return _scaled ? m.mul(_maskScale) : m;
    }

    public void Set(FeatureStatistics statistics, int bins)
    {
        ArgumentNullException.ThrowIfNull(statistics);
        if (_mean is null)
        {
            throw new InvalidOperationException("This network was built with NormalizeInput = false; it has no input statistics to set.");
        }

        statistics.Validate(bins);
        if (statistics.Input != _input)
        {
            throw new ArgumentException($"Expected statistics of the network's input ({_input}); found statistics of {statistics.Input} (measure them with MaskFeatures.Measure(signals, MaskInput.{_input})).", nameof(statistics));
        }

        using var guard = no_grad();
        using Tensor m = tensor(statistics.Mean);
        using Tensor s = tensor(statistics.Std);
        _mean.copy_(m);
        _std!.copy_(s);
    }

    public void Dispose() => _maskScale.Dispose();
}
