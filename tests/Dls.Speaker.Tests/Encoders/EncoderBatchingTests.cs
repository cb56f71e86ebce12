using Dls.Speaker.Encoders;
using static TorchSharp.torch;

namespace Dls.Speaker.Tests.Encoders;

public sealed class EncoderBatchingTests
{
    [Fact]
    public void Pad_NullSequence_ThrowsNamingIndex()
    {
        using var scope = NewDisposeScope();
        Assert.Contains("Sequence 1 is null", Assert.Throws<ArgumentNullException>(() => EncoderBatching.Pad([zeros(2, 3), null!])).Message);
        Assert.Contains("Sequence 0 is null", Assert.Throws<ArgumentNullException>(() => EncoderBatching.Pad([null!, zeros(2, 3)])).Message);
    }

    [Fact]
    public void EmbedAll_NullSequence_ThrowsNamingIndex()
    {
        using var scope = NewDisposeScope();
        using var encoder = new GruSpeakerEncoder(new GruSpeakerEncoderOptions { InputSize = 3, HiddenSize = 4, EmbeddingSize = 2 });
        var ex = Assert.Throws<ArgumentNullException>(() => EncoderBatching.EmbedAll(encoder, [zeros(2, 3), null!]));
        Assert.Contains("Sequence 1 is null", ex.Message);
    }

    [Fact]
    public void Pad_TwoLengths_ZeroPadsAndReportsLengths()
    {
        using var scope = NewDisposeScope();
        var (features, lengths) = EncoderBatching.Pad([ones(1, 2), ones(3, 2)]);
        Assert.Equal(new long[] { 2, 3, 2 }, features.shape);
        Assert.Equal(new long[] { 1, 3 }, lengths.data<long>().ToArray());
        Assert.Equal(0f, features[0, 1, 0].item<float>());
    }
}
