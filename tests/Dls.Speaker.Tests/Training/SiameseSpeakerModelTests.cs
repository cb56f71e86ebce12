using Dls.Speaker.Encoders;
using Dls.Speaker.Training;
using static TorchSharp.torch;

namespace Dls.Speaker.Tests.Training;

[Collection("TorchGlobalState")]
public sealed class SiameseSpeakerModelTests
{
    private static GruSpeakerEncoder SmallEncoder() => new(new GruSpeakerEncoderOptions { InputSize = 6, HiddenSize = 4, EmbeddingSize = 3 });

    [Fact]
    public void Constructor_Identities_AddsOneTrainedHeadParameter()
    {
        using var plain = new SiameseSpeakerModel(SmallEncoder());
        using var withHead = new SiameseSpeakerModel(SmallEncoder(), identities: 5);
        Assert.Equal(0, plain.Identities);
        Assert.Equal(5, withHead.Identities);
        Assert.Equal(plain.parameters().Count() + 1, withHead.parameters().Count());
        Assert.Equal([5L, 3L], withHead.named_parameters().Single(p => p.name == "identity_weights").parameter.shape);
    }

    [Fact]
    public void IdentityCosine_UnitEmbeddings_GivesCosinesPerIdentity()
    {
        using var scope = NewDisposeScope();
        manual_seed(2);
        using var model = new SiameseSpeakerModel(SmallEncoder(), identities: 5);
        var e = nn.functional.normalize(randn(4, 3), p: 2, dim: 1);
        var cos = model.IdentityCosine(e);
        Assert.Equal([4L, 5L], cos.shape);
        // Unit vectors on both sides: every value is a cosine, within [−1, 1] up to float32 rounding.
        Assert.True(cos.abs().max().item<float>() <= 1 + 1e-6f);
    }

    [Fact]
    public void IdentityCosine_WithoutHead_Throws()
    {
        using var model = new SiameseSpeakerModel(SmallEncoder());
        using var e = zeros(2, 3);
        Assert.Throws<InvalidOperationException>(() => model.IdentityCosine(e));
    }

    [Fact]
    public void Constructor_NullEncoder_Throws()
    {
        var ex = Assert.Throws<ArgumentNullException>(() => new SiameseSpeakerModel(null!));
        Assert.Equal("encoder", ex.ParamName);
    }

    [Fact]
    public void ScaleAndOffset_StartAtGe2eValuesAndFollowTheParameters()
    {
        using var scope = NewDisposeScope();
        using var model = new SiameseSpeakerModel(SmallEncoder());
        // GE2E's initial affine score (Wan et al. 2018): w = 10, b = −5.
        Assert.Equal(10.0, model.Scale);
        Assert.Equal(-5.0, model.Offset);
        SetScaleAndOffset(model, 3.25f, -0.5f);
        // Both values are exact in float32.
        Assert.Equal(3.25, model.Scale);
        Assert.Equal(-0.5, model.Offset);
    }

    [Fact]
    public void CosineAndForward_MatchHandComputedCosinesAndAffineLogits()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        manual_seed(4);
        using var model = new SiameseSpeakerModel(SmallEncoder());
        SetScaleAndOffset(model, 2.5f, 0.75f);
        // Three pairs: rows 0–2 are the first utterances, rows 3–5 their partners; lengths differ so padding is exercised.
        var features = randn(6, 5, 6);
        var lengths = tensor(new long[] { 5, 3, 4, 5, 2, 5 });
        float[] e = model.Encoder.forward(features, lengths).data<float>().ToArray();   // (6, 3), row-major

        float[] cosine = model.Cosine(features, lengths).data<float>().ToArray();
        float[] logits = model.forward(features, lengths).data<float>().ToArray();

        Assert.Equal(3, cosine.Length);
        Assert.Equal(3, logits.Length);
        for (int k = 0; k < 3; k++)
        {
            // The cosine from scratch, in double (dot / (|a|·|b|)), not relying on the embeddings being unit length.
            double dot = 0, na = 0, nb = 0;
            for (int i = 0; i < 3; i++)
            {
                double a = e[k * 3 + i], b = e[(k + 3) * 3 + i];
                dot += a * b;
                na += a * a;
                nb += b * b;
            }
            double expected = dot / Math.Sqrt(na * nb);
            // float32 embeddings of unit length to ~1e-7: 1e-5 on the cosine, and 2.5 times that on the logit.
            Assert.Equal(expected, cosine[k], 1e-5);
            Assert.Equal(2.5 * expected + 0.75, logits[k], 2.5e-5);
        }
    }

    [Theory]
    [InlineData(new long[] { 3, 4, 6 }, "found (3, 4, 6)")]   // an odd number of rows cannot be split into pairs
    [InlineData(new long[] { 4, 6 }, "found (4, 6)")]         // no frame axis
    public void Cosine_FeaturesNotPairsOfSequences_ThrowsWithShape(long[] shape, string found)
    {
        using var scope = NewDisposeScope();
        using var model = new SiameseSpeakerModel(SmallEncoder());
        var ex = Assert.Throws<ArgumentException>(() => model.Cosine(zeros(shape), ones(shape[0], ScalarType.Int64)));
        Assert.Equal("features", ex.ParamName);
        Assert.Contains($"Expected features of shape (2·pairs, frames, bins), {found}.", ex.Message);
    }

    private static void SetScaleAndOffset(SiameseSpeakerModel model, float scale, float offset)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var parameters = model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        parameters["scale"].copy_(tensor(scale));
        parameters["offset"].copy_(tensor(offset));
    }
}
