using TorchSharp;
using static TorchSharp.torch;

namespace Dls.Speaker.Training;

/// <summary>Which loss the Siamese training minimizes.</summary>
public enum SiameseLossKind
{
    /// <summary>Binary cross-entropy on the logit <c>scale · cos + offset</c> (learned scale and offset).</summary>
    BinaryCrossEntropy,

    /// <summary>
    /// Contrastive loss on the cosine distance d = 1 − cos (Hadsell et al. 2006): d² for same-speaker pairs,
    /// max(0, margin − d)² for different-speaker pairs.
    /// </summary>
    Contrastive,
}

/// <summary>Differentiable pair losses (tensors in, scalar tensor out); metrics live in <c>Dls.Speaker.Metrics</c>.</summary>
public static class SiameseLoss
{
    /// <summary>Mean binary cross-entropy of same-speaker logits.</summary>
    /// <param name="logits">Shape (pairs).</param>
    /// <param name="isTarget">Shape (pairs), 1 for same speaker, 0 otherwise (float).</param>
    /// <exception cref="ArgumentException">The tensors are not both of shape (pairs) with the same number of pairs.</exception>
    public static Tensor BinaryCrossEntropy(Tensor logits, Tensor isTarget)
    {
        ArgumentNullException.ThrowIfNull(logits);
        ArgumentNullException.ThrowIfNull(isTarget);
        CheckPairShapes(logits, isTarget, "logits");
        return nn.functional.binary_cross_entropy_with_logits(logits, isTarget);
    }

    /// <summary>Mean contrastive loss on cosine distance.</summary>
    /// <param name="cosine">Shape (pairs), cosine similarities.</param>
    /// <param name="isTarget">Shape (pairs), 1 for same speaker, 0 otherwise (float).</param>
    /// <param name="margin">Distance beyond which different-speaker pairs cost nothing, in (0, 2].</param>
    /// <exception cref="ArgumentException">The tensors are not both of shape (pairs) with the same number of pairs, or the
    /// margin is outside (0, 2].</exception>
    public static Tensor Contrastive(Tensor cosine, Tensor isTarget, double margin)
    {
        ArgumentNullException.ThrowIfNull(cosine);
        ArgumentNullException.ThrowIfNull(isTarget);
        CheckPairShapes(cosine, isTarget, "cosine");
        if (!(margin > 0 && margin <= 2)) throw new ArgumentException($"Contrastive margin must be in (0, 2] (cosine distance), found {margin}.", nameof(margin));
        using var scope = NewDisposeScope();
        // Held in a local and disposed here: a temporary Scalar (a literal, or a margin converted implicitly) can be
        // finalized while libtorch still reads it. The constants come from the process-wide Scalars.
        using var marginScalar = margin.ToScalar();
        return scope.MoveToOuter(ContrastiveTerms(cosine, isTarget, marginScalar).mean());
    }

    /// <summary>
    /// Mean additive-margin softmax cross-entropy (AM-softmax / CosFace: Wang et al. 2018): the logits are
    /// scale · (cos − margin) for the true class and scale · cos for the others.
    /// </summary>
    /// <param name="cosine">Shape (n, classes), cosines between unit embeddings and unit class directions.</param>
    /// <param name="labels">Shape (n), int64 class indices.</param>
    /// <param name="scale">The logit scale s (30 is usual); the caller keeps it alive.</param>
    /// <param name="margin">The cosine margin m (0.2 is usual); the caller keeps it alive.</param>
    public static Tensor AdditiveMarginSoftmax(Tensor cosine, Tensor labels, Scalar scale, Scalar margin)
    {
        ArgumentNullException.ThrowIfNull(cosine);
        ArgumentNullException.ThrowIfNull(labels);
        if (cosine.dim() != 2 || labels.dim() != 1 || labels.shape[0] != cosine.shape[0])
            throw new ArgumentException($"Expected cosine (n, classes) and labels (n), found ({string.Join(", ", cosine.shape)}) and ({string.Join(", ", labels.shape)}).");
        using var scope = NewDisposeScope();
        var oneHot = nn.functional.one_hot(labels, cosine.shape[1]).to(cosine.dtype);
        var logits = cosine.add(oneHot.mul(margin), Scalars.MinusOne).mul(scale);
        return scope.MoveToOuter(nn.functional.cross_entropy(logits, labels));
    }

    /// <summary>
    /// Both pair tensors must be (pairs) of one length: torch would broadcast (pairs) against (pairs, 1) to pairs × pairs
    /// and average a loss over every cross pairing without complaint.
    /// </summary>
    private static void CheckPairShapes(Tensor scores, Tensor isTarget, string scoresName)
    {
        if (scores.dim() != 1 || isTarget.dim() != 1 || scores.shape[0] != isTarget.shape[0])
            throw new ArgumentException($"Expected {scoresName} (pairs) and isTarget (pairs) of the same length, found ({string.Join(", ", scores.shape)}) and ({string.Join(", ", isTarget.shape)}).");
    }

    /// <summary>Per-pair contrastive terms: same · d² + (1 − same) · max(0, margin − d)², with d = 1 − cos.</summary>
    /// <param name="cosine">Any shape.</param>
    /// <param name="isTarget">Same shape, 1 for same speaker, 0 otherwise (float).</param>
    /// <param name="margin">The margin in cosine distance; the caller keeps it alive.</param>
    /// <returns>Same shape.</returns>
    internal static Tensor ContrastiveTerms(Tensor cosine, Tensor isTarget, Scalar margin)
    {
        using var scope = NewDisposeScope();
        var distance = cosine.mul(Scalars.MinusOne).add(Scalars.One, Scalars.One);                      // 1 − cos
        var beyond = distance.mul(Scalars.MinusOne).add(margin, Scalars.One).clamp_min(Scalars.Zero);   // max(0, margin − d)
        // same · d² + (1 − same) · beyond² = beyond² + same · (d² − beyond²)
        var far = beyond.pow(Scalars.Two);
        return scope.MoveToOuter(far.add(isTarget.mul(distance.pow(Scalars.Two).add(far, Scalars.MinusOne)), Scalars.One));
    }
}
