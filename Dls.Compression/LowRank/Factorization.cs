using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Dls.Compression.LowRank;

/// <summary>The singular value decomposition of one weight matrix, computed once and truncated at any rank.</summary>
/// <remarks>
/// Computed in float64 so that retained energies and errors are exact to ~1e-12 whatever the weight's type.
/// Owns its tensors; dispose it when done.
/// </remarks>
public sealed class WeightSvd : IDisposable
{
    private readonly Tensor left;      // (out, k), k = min(out, in)
    private readonly Tensor right;     // (k, in)
    private readonly double[] cumulativeEnergy;

    private WeightSvd(Tensor left, double[] singularValues, Tensor right, ScalarType weightType)
    {
        // Owned by this object (disposed by Dispose), so out of any scope the caller has open.
        this.left = left.DetachFromDisposeScope();
        this.right = right.DetachFromDisposeScope();
        SingularValues = singularValues;
        WeightType = weightType;
        cumulativeEnergy = new double[singularValues.Length + 1];
        for (int i = 0; i < singularValues.Length; i++)
            cumulativeEnergy[i + 1] = cumulativeEnergy[i] + singularValues[i] * singularValues[i];
    }

    /// <summary>Decomposes <paramref name="weight"/> (out, in).</summary>
    /// <param name="weight">A 2-D weight.</param>
    /// <returns>The decomposition.</returns>
    /// <exception cref="ArgumentException">The weight is not 2-D, or has NaN or infinite entries (counted).</exception>
    /// <remarks>
    /// Computed through the symmetric eigendecomposition of the smaller Gram matrix (W·Wᵀ or Wᵀ·W) in float64 rather
    /// than LAPACK's SVD driver: on the 2-core build machines <c>torch.linalg.svd</c> of a 1024×1024 matrix takes
    /// seconds, <c>eigh</c> a fraction of that. Squaring the matrix squares its condition number, so singular values
    /// below ~1e-8·σ_max lose relative accuracy — irrelevant for truncation, which discards exactly those; the
    /// other factor is recovered as W·V·S⁻¹ (or S⁻¹·Uᵀ·W), so U_r·S_r·V_rᵀ is the projection of W onto its top-r
    /// singular subspace, the Eckart–Young optimum, whatever the precision of the small σ.
    /// </remarks>
    public static WeightSvd Of(Tensor weight) => Of(weight, null);

    /// <summary>Decomposes the weight (out, in) of the layer named <paramref name="layerName"/>.</summary>
    /// <param name="weight">A 2-D weight.</param>
    /// <param name="layerName">The layer's dotted name for messages (e.g. <c>layers.3</c>), or null.</param>
    /// <returns>The decomposition.</returns>
    /// <exception cref="ArgumentException">The weight is not 2-D, has no row or no column, or has NaN or infinite entries (counted).</exception>
    /// <remarks>See <see cref="Of(Tensor)"/>.</remarks>
    public static WeightSvd Of(Tensor weight, string? layerName)
    {
        ArgumentNullException.ThrowIfNull(weight);
        string what = layerName is null ? "weight" : $"weight of layer '{layerName}'";
        if (weight.dim() != 2)
            throw new ArgumentException($"Expected a 2-D {what} (out, in), found shape [{string.Join("×", weight.shape)}].", nameof(weight));
        // An empty side has no singular value: every rank (1 … MaxRank) would be out of range.
        if (weight.shape[0] == 0 || weight.shape[1] == 0)
            throw new ArgumentException($"Expected a {what} with at least one row and one column, found shape [{string.Join("×", weight.shape)}].", nameof(weight));
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var w = weight.detach().to(ScalarType.Float64).cpu();
        // A NaN or ∞ entry makes the Gram matrix non-finite: eigh then fails or returns NaN factors.
        long nonFinite = w.isfinite().logical_not().sum().item<long>();
        if (nonFinite > 0)
            throw new ArgumentException(
                $"Expected a finite {what}; found {nonFinite} NaN or infinite value(s) among its {w.numel()} ({string.Join("×", w.shape)}). Was the model trained to NaN?",
                nameof(weight));
        long m = w.shape[0], n = w.shape[1];
        bool wide = m <= n;
        // Eigenvalues come in ascending order: flip to the SVD's descending order.
        var gram = wide ? w.mm(w.t()) : w.t().mm(w);
        var (lambda, vectors) = torch.linalg.eigh(gram);
        lambda = lambda.flip(0).clamp_min(0);
        vectors = vectors.flip(1);
        var sigma = lambda.sqrt();
        double sigmaMax = sigma.numel() > 0 ? sigma[0].item<double>() : 0;
        // Directions with σ ≤ 1e-12·σ_max carry no energy; their partner vectors are set to zero instead of 0/0.
        var inverse = torch.where(sigma.gt(sigmaMax * 1e-12), sigma.reciprocal(), torch.zeros_like(sigma));
        Tensor left, right;
        if (wide)
        {
            left = vectors;                                         // U: (m, k)
            right = inverse.unsqueeze(1) * vectors.t().mm(w);       // Vᵀ = S⁻¹·Uᵀ·W: (k, n)
        }
        else
        {
            left = w.mm(vectors) * inverse.unsqueeze(0);            // U = W·V·S⁻¹: (m, k)
            right = vectors.t().contiguous();                       // Vᵀ: (k, n)
        }
        double[] values = sigma.data<double>().ToArray();
        return new WeightSvd(left.contiguous().MoveToOuterDisposeScope(), values, right.contiguous().MoveToOuterDisposeScope(), weight.dtype);
    }

    /// <summary>The singular values, largest first.</summary>
    public IReadOnlyList<double> SingularValues { get; }

    /// <summary>The element type of the decomposed weight (factors are returned in it).</summary>
    public ScalarType WeightType { get; }

    /// <summary>Rows of the weight (output features).</summary>
    public long OutFeatures => left.shape[0];

    /// <summary>Columns of the weight (input features).</summary>
    public long InFeatures => right.shape[1];

    /// <summary>The largest possible rank, min(out, in).</summary>
    public int MaxRank => SingularValues.Count;

    /// <summary>Σσ², the squared Frobenius norm of the weight.</summary>
    public double TotalEnergy => cumulativeEnergy[^1];

    /// <summary>Fraction of Σσ² kept by the first <paramref name="rank"/> singular values.</summary>
    /// <param name="rank">0 … <see cref="MaxRank"/>.</param>
    /// <returns>A value in [0, 1] (1 for a zero weight).</returns>
    public double RetainedEnergy(int rank)
    {
        CheckRank(rank, allowZero: true);
        return TotalEnergy == 0 ? 1 : cumulativeEnergy[rank] / TotalEnergy;
    }

    /// <summary>
    /// ‖W − W_r‖_F / ‖W‖_F for the best rank-r approximation W_r, which by Eckart–Young equals √(Σ_{i&gt;r} σ_i² / Σσ²).
    /// </summary>
    /// <param name="rank">0 … <see cref="MaxRank"/>.</param>
    /// <returns>The relative Frobenius error (0 for a zero weight).</returns>
    public double RelativeError(int rank)
    {
        CheckRank(rank, allowZero: true);
        return TotalEnergy == 0 ? 0 : Math.Sqrt(Math.Max(0, TotalEnergy - cumulativeEnergy[rank]) / TotalEnergy);
    }

    /// <summary>The smallest rank whose retained energy is at least <paramref name="energy"/>.</summary>
    /// <param name="energy">In (0, 1].</param>
    /// <returns>A rank in 1 … <see cref="MaxRank"/>.</returns>
    public int RankForEnergy(double energy)
    {
        if (!(energy > 0 && energy <= 1))
            throw new ArgumentOutOfRangeException(nameof(energy), energy, "Expected an energy fraction in (0, 1].");
        for (int r = 1; r <= MaxRank; r++)
            // Relative slack of 1e-12 so that energy = 1 is reached despite rounding in the cumulative sum.
            if (cumulativeEnergy[r] >= energy * TotalEnergy * (1 - 1e-12))
                return r;
        return MaxRank;
    }

    /// <summary>
    /// The factors of the best rank-<paramref name="rank"/> approximation, with the singular values split evenly:
    /// u = U_r·√S_r (out, rank) and v = √S_r·V_rᵀ (rank, in).
    /// </summary>
    /// <param name="rank">1 … <see cref="MaxRank"/>.</param>
    /// <returns>New tensors in <see cref="WeightType"/>.</returns>
    /// <remarks>
    /// Why √S on each side: u·v is the same for any split, but the split sets the factors' scales. With √S both
    /// factors have the same singular values √σ_i, so neither factor is tiny while the other is huge; gradients
    /// (∂L/∂u = g·vᵀ, ∂L/∂v = uᵀ·g) then have comparable magnitudes and one learning rate suits both when the
    /// factorized network is fine-tuned. Putting S wholly on one side makes the other factor orthonormal and its
    /// updates relatively σ-times larger or smaller.
    /// </remarks>
    public (Tensor U, Tensor V) Factors(int rank)
    {
        CheckRank(rank, allowZero: false);
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var sqrtS = torch.tensor(SingularValues.Take(rank).Select(Math.Sqrt).ToArray(), ScalarType.Float64);
        var uFactor = left.narrow(1, 0, rank).mul(sqrtS.unsqueeze(0)).to(WeightType).contiguous();
        var vFactor = right.narrow(0, 0, rank).mul(sqrtS.unsqueeze(1)).to(WeightType).contiguous();
        return (uFactor.MoveToOuterDisposeScope(), vFactor.MoveToOuterDisposeScope());
    }

    /// <inheritdoc />
    public void Dispose()
    {
        left.Dispose();
        right.Dispose();
    }

    private void CheckRank(int rank, bool allowZero)
    {
        int min = allowZero ? 0 : 1;
        if (rank < min || rank > MaxRank)
            throw new ArgumentOutOfRangeException(nameof(rank), rank, $"Expected a rank in [{min}, {MaxRank}] for a {OutFeatures}×{InFeatures} weight.");
    }
}

/// <summary>Factorizing single layers.</summary>
public static class Factorization
{
    /// <summary>
    /// Replaces a dense layer by its best rank-<paramref name="rank"/> approximation (truncated SVD, √S split; see
    /// <see cref="WeightSvd.Factors"/>). The bias is copied. The original layer is left untouched.
    /// </summary>
    /// <param name="linear">The dense layer.</param>
    /// <param name="rank">1 … min(in, out).</param>
    /// <returns>The new layer.</returns>
    public static LowRankLinear Factorize(Linear linear, int rank)
    {
        ArgumentNullException.ThrowIfNull(linear);
        using var svd = WeightSvd.Of(linear.weight!);
        return Factorize(linear, svd, rank);
    }

    /// <summary>As <see cref="Factorize(Linear, int)"/>, reusing a decomposition of <paramref name="linear"/>'s weight.</summary>
    /// <param name="linear">The dense layer (for its bias).</param>
    /// <param name="svd">The decomposition of its weight.</param>
    /// <param name="rank">1 … min(in, out).</param>
    /// <returns>The new layer.</returns>
    public static LowRankLinear Factorize(Linear linear, WeightSvd svd, int rank)
    {
        ArgumentNullException.ThrowIfNull(linear);
        ArgumentNullException.ThrowIfNull(svd);
        if (svd.OutFeatures != linear.out_features || svd.InFeatures != linear.in_features)
            throw new ArgumentException(
                $"The decomposition is of a {svd.OutFeatures}×{svd.InFeatures} weight, the layer's is {linear.out_features}×{linear.in_features}.", nameof(svd));
        using var scope = torch.NewDisposeScope();
        var (u, v) = svd.Factors(rank);
        return LowRankLinear.FromFactors(u, v, linear.bias);
    }

    /// <summary>Whether a rank-r factorization of an out×in weight has fewer weights than the dense matrix: r·(in+out) &lt; in·out.</summary>
    /// <param name="inFeatures">Input features.</param>
    /// <param name="outFeatures">Output features.</param>
    /// <param name="rank">The rank.</param>
    /// <returns>True when factorizing saves parameters.</returns>
    public static bool SavesParameters(long inFeatures, long outFeatures, long rank)
        => rank * (inFeatures + outFeatures) < inFeatures * outFeatures;
}
