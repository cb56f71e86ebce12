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
}
