using TorchSharp;
using static TorchSharp.torch;

namespace Dls.Speaker.Training;

/// <summary>
/// Warps the spectral envelope and the harmonic fine structure of log-spectral frames by separate factors — a new
/// "vocal tract" and a new "pitch" — so that one recorded voice yields many related but distinct voices. The split is
/// cepstral liftering: the envelope is the projection of each log-spectral frame on its first
/// <see cref="CepstralCoefficients"/> orthonormal DCT-II basis vectors (the low quefrencies), the fine structure is the
/// rest; each part is warped along frequency by <see cref="FrequencyWarp"/> and the two are added back.
/// </summary>
/// <remarks>
/// Only meaningful for log-domain features (log-magnitude or log-mel), where envelope and excitation add. With equal
/// factors it equals a plain <see cref="FrequencyWarp"/> of the whole frame, since both are linear in the frame.
/// </remarks>
public sealed class SourceFilterWarp : IDisposable
{
    private readonly Tensor _projection;
    private readonly FrequencyWarp _envelope;
    private readonly FrequencyWarp _excitation;

    /// <summary>Creates the warp.</summary>
    /// <param name="bins">Bins per frame (≥ 2).</param>
    /// <param name="envelopeFactor">Warp factor of the envelope (see <see cref="FrequencyWarp"/>).</param>
    /// <param name="excitationFactor">Warp factor of the fine structure.</param>
    /// <param name="cepstralCoefficients">
    /// Low-quefrency coefficients kept as envelope, in [1, bins]. 30 of 513 bins keeps detail coarser than about 17 bins
    /// (270 Hz at n_fft 1024, 16 kHz): formants, but not the harmonics of voices below about 270 Hz.
    /// </param>
    /// <exception cref="ArgumentException">A bad size or factor.</exception>
    public SourceFilterWarp(int bins, double envelopeFactor, double excitationFactor, int cepstralCoefficients = 30)
    {
        if (bins < 2) throw new ArgumentException($"Expected at least 2 bins, found {bins}.", nameof(bins));
        if (cepstralCoefficients < 1 || cepstralCoefficients > bins)
            throw new ArgumentException($"Expected cepstral coefficients in [1, {bins}], found {cepstralCoefficients}.", nameof(cepstralCoefficients));
        Bins = bins;
        CepstralCoefficients = cepstralCoefficients;
        _envelope = new FrequencyWarp(bins, envelopeFactor);
        _excitation = new FrequencyWarp(bins, excitationFactor);
        using var scope = NewDisposeScope();
        // Orthonormal DCT-II rows d_c[k] = w_c cos(π (k + ½) c / N); P = D_Cᵀ D_C projects a frame (row vector) on them.
        var k = arange(bins, dtype: ScalarType.Float64).add(0.5).unsqueeze(0);
        var c = arange(cepstralCoefficients, dtype: ScalarType.Float64).unsqueeze(1);
        var basis = (k * c * (Math.PI / bins)).cos() * Math.Sqrt(2.0 / bins);
        basis[0] = basis[0] / Math.Sqrt(2.0);
        _projection = scope.MoveToOuter(basis.T.matmul(basis).to_type(ScalarType.Float32)).DetachFromDisposeScope();
    }

    /// <summary>Bins per frame.</summary>
    public int Bins { get; }

    /// <summary>Low-quefrency DCT coefficients that make up the envelope.</summary>
    public int CepstralCoefficients { get; }

    /// <summary>The envelope's warp factor.</summary>
    public double EnvelopeFactor => _envelope.Factor;

    /// <summary>The fine structure's warp factor.</summary>
    public double ExcitationFactor => _excitation.Factor;

    /// <summary>The envelope of log-spectral frames.</summary>
    /// <param name="features">Shape (…, Bins).</param>
    /// <returns>Same shape.</returns>
    public Tensor Envelope(Tensor features)
    {
        ArgumentNullException.ThrowIfNull(features);
        CheckBins(features);
        return features.matmul(_projection);
    }

    /// <summary>Warps envelope and fine structure of log-spectral frames by their factors.</summary>
    /// <param name="features">Shape (…, Bins).</param>
    /// <returns>Same shape.</returns>
    public Tensor Apply(Tensor features)
    {
        ArgumentNullException.ThrowIfNull(features);
        CheckBins(features);
        // Both warps are linear, so equal factors need no split.
        if (EnvelopeFactor == ExcitationFactor) return _envelope.Apply(features);
        using var scope = NewDisposeScope();
        var envelope = features.matmul(_projection);
        var warped = _envelope.Apply(envelope).add(_excitation.Apply(features.add(envelope, Scalars.MinusOne)), Scalars.One);
        return scope.MoveToOuter(warped);
    }

    private void CheckBins(Tensor features)
    {
        if (features.dim() < 1 || features.shape[^1] != Bins)
            throw new ArgumentException($"Expected features with {Bins} bins in the last dimension, found ({string.Join(", ", features.shape)}).", nameof(features));
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _projection.Dispose();
        _envelope.Dispose();
        _excitation.Dispose();
    }
}
