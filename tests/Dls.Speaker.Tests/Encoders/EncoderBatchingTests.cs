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

    [Fact]
    public void Pad_NoSequence_Throws()
    {
        var ex = Assert.Throws<ArgumentException>(() => EncoderBatching.Pad([]));
        Assert.Equal("sequences", ex.ParamName);
        Assert.Contains("Expected at least one sequence to pad, found none.", ex.Message);
    }

    [Theory]
    [InlineData(new long[] { 6 }, "found (6)")]            // one dimension
    [InlineData(new long[] { 0, 3 }, "found (0, 3)")]      // no frame
    [InlineData(new long[] { 2, 4 }, "found (2, 4)")]      // other bins than sequence 0
    public void Pad_SequenceOfAnotherShape_ThrowsNamingIndexAndShapes(long[] shape, string found)
    {
        using var scope = NewDisposeScope();
        var ex = Assert.Throws<ArgumentException>(() => EncoderBatching.Pad([zeros(2, 3), zeros(shape)]));
        Assert.Equal("sequences", ex.ParamName);
        Assert.Contains($"Sequence 1: expected shape (frames ≥ 1, 3), {found}.", ex.Message);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public void EmbedAll_BatchSizeBelowOne_ThrowsWithValue(int batchSize)
    {
        using var scope = NewDisposeScope();
        using var encoder = new GruSpeakerEncoder(new GruSpeakerEncoderOptions { InputSize = 3, HiddenSize = 4, EmbeddingSize = 2 });
        var ex = Assert.Throws<ArgumentException>(() => EncoderBatching.EmbedAll(encoder, [zeros(2, 3)], batchSize));
        Assert.Equal("batchSize", ex.ParamName);
        Assert.Contains($"batchSize must be ≥ 1, found {batchSize}.", ex.Message);
    }
}
