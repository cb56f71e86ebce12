using Dls.Compression.Modules;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Dls.Compression.LowRank;

/// <summary>
/// A linear layer whose weight is kept as a product of two thin factors, W ≈ u·v with u of shape (out, rank) and v of
/// shape (rank, in): <c>y = (x·vᵀ)·uᵀ + bias</c>. The full weight is never formed, so a forward pass costs
/// rank·(in + out) multiply-accumulates per row instead of in·out.
/// </summary>
/// <remarks>State-dict keys: <c>u</c>, <c>v</c> and (when present) <c>bias</c>.</remarks>
public sealed class LowRankLinear : Module<Tensor, Tensor>
{
    /// <summary>
    /// alpha = 1 kept alive for the process: TorchSharp's implicit temporary scalar (behind <c>add(tensor)</c>) can be
    /// finalized while libtorch still reads it.
    /// </summary>
    private static readonly Scalar One = 1.0.ToScalar();

    private readonly Parameter u;
    private readonly Parameter v;
    private readonly Parameter? bias;

    /// <summary>Creates a randomly initialised low-rank layer (trainable from scratch).</summary>
    /// <param name="inFeatures">Input features (columns of x).</param>
    /// <param name="outFeatures">Output features.</param>
    /// <param name="rank">Inner dimension of the factorization, 1 ≤ rank.</param>
    /// <param name="hasBias">Whether to add a bias.</param>
    /// <remarks>
    /// Each factor is initialised like a <c>Linear</c> of its own shape (uniform in ±1/√fan_in, PyTorch's default):
    /// v as a Linear in→rank, u as a Linear rank→out, the bias as in <c>Linear(in, out)</c>. Each factor then keeps
    /// activations on the scale of a dense layer's, which lets such networks train from random initialisation.
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException">A size is not positive.</exception>
    public LowRankLinear(long inFeatures, long outFeatures, long rank, bool hasBias = true)
        : base(nameof(LowRankLinear))
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(inFeatures, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(outFeatures, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(rank, 1);
        using (torch.no_grad())
        {
            double boundV = 1.0 / Math.Sqrt(inFeatures), boundU = 1.0 / Math.Sqrt(rank);
            u = new Parameter(torch.empty(outFeatures, rank).uniform_(-boundU, boundU));
            v = new Parameter(torch.empty(rank, inFeatures).uniform_(-boundV, boundV));
            if (hasBias)
                bias = new Parameter(torch.empty(outFeatures).uniform_(-boundV, boundV));
        }
        RegisterComponents();
        this.DetachStateFromDisposeScopes();
    }

    private LowRankLinear(Parameter u, Parameter v, Parameter? bias)
        : base(nameof(LowRankLinear))
    {
        this.u = u;
        this.v = v;
        this.bias = bias;
        RegisterComponents();
        this.DetachStateFromDisposeScopes();
    }

    /// <summary>Builds a layer from given factors (copied, detached).</summary>
    /// <param name="u">(out, rank).</param>
    /// <param name="v">(rank, in).</param>
    /// <param name="bias">(out) or null.</param>
    /// <returns>The layer.</returns>
    /// <exception cref="ArgumentException">
    /// The shapes do not fit together or a size is zero (the constructor's rule: out, rank and in ≥ 1); the tensors are not
    /// of one floating-point dtype; or a value is NaN or infinite (the first one is named).
    /// </exception>
    public static LowRankLinear FromFactors(Tensor u, Tensor v, Tensor? bias)
    {
        ArgumentNullException.ThrowIfNull(u);
        ArgumentNullException.ThrowIfNull(v);
        if (u.dim() != 2 || v.dim() != 2 || u.shape[1] != v.shape[0])
            throw new ArgumentException(
                $"Expected u (out, rank) and v (rank, in) with matching rank, found u [{Shape(u)}] and v [{Shape(v)}].");
        if (u.shape[0] < 1 || u.shape[1] < 1 || v.shape[1] < 1)
            throw new ArgumentException(
                $"Expected u (out, rank) and v (rank, in) with out, rank and in ≥ 1, found u [{Shape(u)}] and v [{Shape(v)}].");
        if (bias is not null && (bias.dim() != 1 || bias.shape[0] != u.shape[0]))
            throw new ArgumentException($"Expected bias of shape [{u.shape[0]}], found [{Shape(bias)}].", nameof(bias));
        // The forward pass multiplies u, v and the bias together: libtorch refuses mixed dtypes only at that point.
        string? odd = !u.is_floating_point() ? nameof(u) : v.dtype != u.dtype ? nameof(v) : bias is not null && bias.dtype != u.dtype ? nameof(bias) : null;
        if (odd is not null)
            throw new ArgumentException(
                $"Expected u, v and bias of one floating-point dtype; found u {u.dtype}, v {v.dtype}{(bias is null ? "" : $", bias {bias.dtype}")}.", odd);
        TensorChecks.ThrowIfNonFinite(u, nameof(u));
        TensorChecks.ThrowIfNonFinite(v, nameof(v));
        if (bias is not null) TensorChecks.ThrowIfNonFinite(bias, nameof(bias));
        // The detached views and contiguous copies are temporaries of this call; the layer's parameters leave the scope
        // (the constructor takes them out of any scope).
        using (torch.NewDisposeScope())
        using (torch.no_grad())
        {
            return new LowRankLinear(
                new Parameter(u.detach().contiguous().clone()),
                new Parameter(v.detach().contiguous().clone()),
                bias is null ? null : new Parameter(bias.detach().contiguous().clone()));
        }
    }

    /// <summary>Input features.</summary>
    public long InFeatures => v.shape[1];

    /// <summary>Output features.</summary>
    public long OutFeatures => u.shape[0];

    /// <summary>The rank (inner dimension).</summary>
    public long Rank => v.shape[0];

    /// <summary>The left factor, shape (out, rank).</summary>
    public Parameter U => u;

    /// <summary>The right factor, shape (rank, in).</summary>
    public Parameter V => v;

    /// <summary>The bias, shape (out), or null.</summary>
    public Parameter? Bias => bias;

    /// <summary>Parameter count: rank·(in + out) + out (with bias).</summary>
    public long ParameterCount => Rank * (InFeatures + OutFeatures) + (bias is null ? 0 : OutFeatures);

    /// <summary>Computes <c>(x·vᵀ)·uᵀ + bias</c>.</summary>
    /// <param name="input">(…, in), of the factors' dtype.</param>
    /// <returns>(…, out), a new tensor.</returns>
    /// <exception cref="ArgumentException">The last dimension is not <see cref="InFeatures"/>, or the dtype is not the factors'.</exception>
    public override Tensor forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        // Checked here because libtorch's own message names neither the layer nor the expected shape, and a
        // mismatched batched matmul (3-D input) aborts the process instead of throwing.
        long inFeatures = v.shape[1];
        if (input.dim() == 0 || input.shape[^1] != inFeatures)
            throw new ArgumentException(
                $"Expected input (…, {inFeatures}) for a {inFeatures}→{u.shape[0]} layer, found [{Shape(input)}].", nameof(input));
        if (input.dtype != v.dtype)
            throw new ArgumentException(
                $"Expected {v.dtype} input (the dtype of the factors), found {input.dtype}; convert it with input.to(ScalarType.{v.dtype}).",
                nameof(input));
        // Transposed views, no copies; BLAS reads them as transposed operands.
        using var vt = v.t();
        using var ut = u.t();
        if (input.dim() == 2)
        {
            // Two GEMMs; the bias is folded into the second one.
            using var inner = input.mm(vt);
            return bias is null ? inner.mm(ut) : torch.addmm(bias, inner, ut, beta: 1, alpha: 1);
        }
        using var h = torch.matmul(input, vt);
        if (bias is null)
            return torch.matmul(h, ut);
        var y = torch.matmul(h, ut);
        // In place on the fresh product, with a long-lived alpha (see One).
        return y.add_(bias, One);
    }

    private static string Shape(Tensor t) => string.Join("×", t.shape);

    /// <summary>The product u·v (out, in) — for analysis and tests; the forward pass never forms it.</summary>
    /// <returns>A new tensor.</returns>
    public Tensor ToDenseWeight()
    {
        using (torch.no_grad())
            return u.mm(v);
    }
}
