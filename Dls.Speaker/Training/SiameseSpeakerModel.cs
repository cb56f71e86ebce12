using Dls.Compression.Modules;
using Dls.Models.Checkpoints;
using Dls.Speaker.Encoders;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Dls.Speaker.Training;

/// <summary>
/// The Siamese training wrapper: one shared <see cref="GruSpeakerEncoder"/> embeds both sides of every pair, and a
/// learned scale and offset turn their cosine similarity into a same-speaker logit,
/// <c>logit = scale · cos(e₁, e₂) + offset</c> (the affine score of GE2E, Wan et al. 2018). Putting the encoder and the two
/// scalars in one module lets a single optimizer over <c>parameters()</c> train all of them.
/// </summary>
public sealed class SiameseSpeakerModel : nn.Module<Tensor, Tensor, Tensor>, IDescribedModel
{
    /// <summary>The architecture name in checkpoints (its options are the encoder's).</summary>
    public const string ArchitectureName = "siamese-gru-speaker";

    private readonly GruSpeakerEncoder encoder;
    private readonly Parameter scale;
    private readonly Parameter offset;
    // (identities, embedding): one learned direction per training identity, for the auxiliary identity loss; null without it.
    private readonly Parameter? identity_weights;

    /// <summary>Wraps <paramref name="encoder"/>; scale starts at 10 and offset at −5 (GE2E's initial values).</summary>
    /// <param name="encoder">The shared encoder.</param>
    /// <param name="identities">
    /// Training identities for <see cref="IdentityCosine"/> (an auxiliary classification head, used only in training);
    /// 0 (default) adds none. Its weights start from a standard normal draw of torch's global generator.
    /// </param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="identities"/> is negative.</exception>
    public SiameseSpeakerModel(GruSpeakerEncoder encoder, int identities = 0) : base(nameof(SiameseSpeakerModel))
    {
        this.encoder = encoder ?? throw new ArgumentNullException(nameof(encoder));
        ArgumentOutOfRangeException.ThrowIfNegative(identities);
        scale = new Parameter(tensor(10f));
        offset = new Parameter(tensor(-5f));
        scale.DetachFromDisposeScope();
        offset.DetachFromDisposeScope();
        if (identities > 0)
        {
            identity_weights = new Parameter(randn(identities, encoder.Options.EmbeddingSize));
            identity_weights.DetachFromDisposeScope();
        }
        RegisterComponents();
        this.DetachStateFromDisposeScopes();
    }

    /// <summary>Training identities of the auxiliary head (0 without one).</summary>
    public int Identities => identity_weights is null ? 0 : (int)identity_weights.shape[0];

    /// <summary>The shared encoder (the part that is kept after training).</summary>
    public GruSpeakerEncoder Encoder => encoder;

    /// <inheritdoc />
    public ModelDescription Describe() => new(ArchitectureName, ModelArchitectures.ToJson(encoder.Options));

    /// <summary>The current learned scale.</summary>
    public double Scale => scale.item<float>();

    /// <summary>The current learned offset.</summary>
    public double Offset => offset.item<float>();

    /// <summary>Embeds both sides of a batch of pairs and returns their cosine similarities.</summary>
    /// <param name="features">Shape (2·pairs, frames, bins): rows [0, pairs) are the first utterances, rows [pairs, 2·pairs) the second.</param>
    /// <param name="lengths">Shape (2·pairs), int64 valid frames per row.</param>
    /// <returns>Shape (pairs): cos(e₁, e₂) in [−1, 1].</returns>
    public Tensor Cosine(Tensor features, Tensor lengths)
    {
        if (features.dim() != 3 || features.shape[0] % 2 != 0)
            throw new ArgumentException($"Expected features of shape (2·pairs, frames, bins), found ({string.Join(", ", features.shape)}).", nameof(features));
        using var scope = NewDisposeScope();
        long pairs = features.shape[0] / 2;
        var e = encoder.forward(features, lengths);
        // Embeddings are unit length, so the dot product is the cosine.
        var cos = (e[..(int)pairs] * e[(int)pairs..]).sum(1);
        return scope.MoveToOuter(cos);
    }

    /// <summary>Same-speaker logits <c>scale · cos + offset</c>.</summary>
    /// <param name="features">Shape (2·pairs, frames, bins), as for <see cref="Cosine"/>.</param>
    /// <param name="lengths">Shape (2·pairs), int64.</param>
    /// <returns>Shape (pairs).</returns>
    public override Tensor forward(Tensor features, Tensor lengths)
    {
        using var scope = NewDisposeScope();
        var logits = Cosine(features, lengths).mul(scale).add(offset, Scalars.One);
        return scope.MoveToOuter(logits);
    }

    /// <summary>Cosines between embeddings and the identity head's directions (the input of an additive-margin softmax).</summary>
    /// <param name="embeddings">Shape (n, embedding), unit length (the encoder's output).</param>
    /// <returns>Shape (n, <see cref="Identities"/>).</returns>
    /// <exception cref="InvalidOperationException">The model has no identity head.</exception>
    public Tensor IdentityCosine(Tensor embeddings)
    {
        ArgumentNullException.ThrowIfNull(embeddings);
        if (identity_weights is null) throw new InvalidOperationException("This SiameseSpeakerModel was built without identities (identities = 0).");
        using var scope = NewDisposeScope();
        var directions = nn.functional.normalize(identity_weights, p: 2, dim: 1);
        return scope.MoveToOuter(embeddings.matmul(directions.T));
    }

    /// <summary>Turns cosines into logits with the learned scale and offset.</summary>
    /// <param name="cosine">Any shape.</param>
    public Tensor Logits(Tensor cosine)
    {
        ArgumentNullException.ThrowIfNull(cosine);
        using var scaled = cosine.mul(scale);
        return scaled.add(offset, Scalars.One);
    }
}
