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
    public static Tensor BinaryCrossEntropy(Tensor logits, Tensor isTarget)
    {
        ArgumentNullException.ThrowIfNull(logits);
        ArgumentNullException.ThrowIfNull(isTarget);
        return nn.functional.binary_cross_entropy_with_logits(logits, isTarget);
    }

    /// <summary>Mean contrastive loss on cosine distance.</summary>
    /// <param name="cosine">Shape (pairs), cosine similarities.</param>
    /// <param name="isTarget">Shape (pairs), 1 for same speaker, 0 otherwise (float).</param>
    /// <param name="margin">Distance beyond which different-speaker pairs cost nothing, in (0, 2].</param>
    public static Tensor Contrastive(Tensor cosine, Tensor isTarget, double margin)
    {
        ArgumentNullException.ThrowIfNull(cosine);
        ArgumentNullException.ThrowIfNull(isTarget);
        if (!(margin > 0 && margin <= 2)) throw new ArgumentException($"Contrastive margin must be in (0, 2] (cosine distance), found {margin}.", nameof(margin));
        using var scope = NewDisposeScope();
        var distance = 1 - cosine;
        var same = isTarget * distance.pow(2);
        var different = (1 - isTarget) * (margin - distance).clamp_min(0).pow(2);
        return scope.MoveToOuter((same + different).mean());
    }
}
