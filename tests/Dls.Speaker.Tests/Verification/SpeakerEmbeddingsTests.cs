using Dls.Speaker.Verification;

namespace Dls.Speaker.Tests.Verification;

public sealed class SpeakerEmbeddingsTests
{
    private const double Tol = 1e-6; // float32 storage of the result

    [Fact]
    public void Enroll_TwoUnitVectors_ReturnsNormalizedMean()
    {
        // mean of (1,0) and (0,1) is (0.5,0.5); renormalized: (1/√2, 1/√2).
        var e = SpeakerEmbeddings.Enroll([[1f, 0f], [0f, 1f]]);
        Assert.Equal(1 / Math.Sqrt(2), e[0], Tol);
        Assert.Equal(1 / Math.Sqrt(2), e[1], Tol);
    }

    [Fact]
    public void Enroll_SingleVector_ReturnsItsDirection()
    {
        var e = SpeakerEmbeddings.Enroll([[3f, 4f]]);
        Assert.Equal(0.6, e[0], Tol);
        Assert.Equal(0.8, e[1], Tol);
    }

    [Fact]
    public void Enroll_Empty_ThrowsWithClearMessage()
    {
        var ex = Assert.Throws<ArgumentException>(() => SpeakerEmbeddings.Enroll([]));
        Assert.Contains("at least one utterance", ex.Message);
    }

    [Fact]
    public void Enroll_MismatchedLengthsOrOpposites_Throws()
    {
        Assert.Contains("length 2", Assert.Throws<ArgumentException>(() => SpeakerEmbeddings.Enroll([[1f, 0f], [1f, 0f, 0f]])).Message);
        Assert.Contains("cancel out", Assert.Throws<ArgumentException>(() => SpeakerEmbeddings.Enroll([[1f, 0f], [-1f, 0f]])).Message);
        Assert.Contains("non-finite", Assert.Throws<ArgumentException>(() => SpeakerEmbeddings.Enroll([[float.NaN, 0f]])).Message);
    }

    [Fact]
    public void Verify_ScoreAgainstThreshold_DecidesInclusive()
    {
        // cos((1,0),(0.6,0.8)) = 0.6.
        var accept = SpeakerEmbeddings.Verify([1f, 0f], [0.6f, 0.8f], 0.6 - 1e-7);
        Assert.Equal(0.6, accept.Score, Tol);
        Assert.True(accept.IsSameSpeaker);
        var reject = SpeakerEmbeddings.Verify([1f, 0f], [0.6f, 0.8f], 0.7);
        Assert.False(reject.IsSameSpeaker);
        Assert.Equal(0.7, reject.Threshold);
    }

    [Fact]
    public void Center_SubtractsMeanAndRenormalizes()
    {
        // (1, 1) − (1, 0) = (0, 1): already unit. (3, 4) − (0, 0) = (3, 4) → (0.6, 0.8).
        Assert.Equal(new float[] { 0, 1 }, SpeakerEmbeddings.Center([1f, 1f], [1f, 0f]));
        Assert.Equal(new float[] { 0.6f, 0.8f }, SpeakerEmbeddings.Center([3f, 4f], [0f, 0f]));
    }

    [Fact]
    public void Center_MismatchedLengthOrEqualToMean_Throws()
    {
        Assert.Contains("lengths 2 and 3", Assert.Throws<ArgumentException>(() => SpeakerEmbeddings.Center([1f, 0f], [0f, 0f, 0f])).Message);
        Assert.Contains("equals the mean", Assert.Throws<ArgumentException>(() => SpeakerEmbeddings.Center([0.6f, 0.8f], [0.6f, 0.8f])).Message);
    }

    [Fact]
    public void Mean_ElementWise_NotRenormalized()
    {
        Assert.Equal(new float[] { 0.5f, 0.5f }, SpeakerEmbeddings.Mean([[1f, 0f], [0f, 1f]]));
        Assert.Contains("index 1", Assert.Throws<ArgumentException>(() => SpeakerEmbeddings.Mean([[1f, 0f], [1f]])).Message);
        Assert.Contains("none", Assert.Throws<ArgumentException>(() => SpeakerEmbeddings.Mean([])).Message);
    }

    [Fact]
    public void Cosine_NonFiniteValue_ThrowsNamingVectorAndIndex()
    {
        var nan = Assert.Throws<ArgumentException>(() => SpeakerEmbeddings.Cosine([float.NaN, 1f], [1f, 1f]));
        Assert.Contains("NaN at index 0", nan.Message);
        Assert.Equal("a", nan.ParamName);
        var inf = Assert.Throws<ArgumentException>(() => SpeakerEmbeddings.Cosine([1f, 1f], [1f, float.PositiveInfinity]));
        Assert.Contains("at index 1", inf.Message);
        Assert.Equal("b", inf.ParamName);
    }

    [Fact]
    public void Verify_NaNInEnrolledEmbedding_ThrowsInsteadOfRejecting()
    {
        // Before: the NaN score compared false against every threshold, a silent "different speaker".
        var ex = Assert.Throws<ArgumentException>(() => SpeakerEmbeddings.Verify([float.NaN, 1f], [1f, 1f], -1));
        Assert.Contains("NaN at index 0", ex.Message);
        Assert.Equal("enrolled", ex.ParamName);
    }

    [Fact]
    public void Center_NonFiniteEmbeddingOrMean_ThrowsNamingIndex()
    {
        var embedding = Assert.Throws<ArgumentException>(() => SpeakerEmbeddings.Center([float.PositiveInfinity, 1f], [0f, 0f]));
        Assert.Contains("embedding", embedding.Message);
        Assert.Contains("at index 0", embedding.Message);
        Assert.DoesNotContain("equals the mean", embedding.Message);
        var mean = Assert.Throws<ArgumentException>(() => SpeakerEmbeddings.Center([1f, 1f], [0f, float.NaN]));
        Assert.Contains("mean has NaN at index 1", mean.Message);
        Assert.Equal("mean", mean.ParamName);
    }

    [Fact]
    public void Mean_NullEmbedding_ThrowsNamingIndex()
    {
        Assert.Contains("Embedding 1 is null", Assert.Throws<ArgumentNullException>(() => SpeakerEmbeddings.Mean([[1f, 0f], null!])).Message);
        Assert.Contains("Embedding 0 is null", Assert.Throws<ArgumentNullException>(() => SpeakerEmbeddings.Mean([null!, [1f, 0f]])).Message);
    }

    [Fact]
    public void Enroll_EmptyOrNullEmbedding_ThrowsSayingWhich()
    {
        var empty = Assert.Throws<ArgumentException>(() => SpeakerEmbeddings.Enroll([[]]));
        Assert.Contains("Enrollment embedding 0 is empty", empty.Message);
        var none = Assert.Throws<ArgumentNullException>(() => SpeakerEmbeddings.Enroll([[1f, 0f], null!]));
        Assert.Contains("Enrollment embedding 1 is null", none.Message);
    }

    [Theory]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    public void Mean_NonFiniteValue_ThrowsNamingEmbeddingAndIndex(float bad)
    {
        var ex = Assert.Throws<ArgumentException>(() => SpeakerEmbeddings.Mean([[1f, 0f, 0f], [0f, 1f, bad]]));
        Assert.Equal("embeddings", ex.ParamName);
        Assert.Contains("Embedding 1 has a non-finite value at 2.", ex.Message);
    }

    [Theory]
    [InlineData(2, 3)]
    [InlineData(0, 0)]
    public void Cosine_LengthsDifferOrZero_ThrowsWithBothLengths(int lengthA, int lengthB)
    {
        var ex = Assert.Throws<ArgumentException>(() => SpeakerEmbeddings.Cosine(Enumerable.Repeat(1f, lengthA).ToArray(), Enumerable.Repeat(1f, lengthB).ToArray()));
        Assert.Contains($"Expected two non-empty vectors of equal length, found lengths {lengthA} and {lengthB}.", ex.Message);
        Assert.Equal(lengthA == 0 ? "a" : "b", ex.ParamName);
    }

    [Fact]
    public void CosineAndVerify_ZeroVector_ThrowsUndefined()
    {
        var cosine = Assert.Throws<ArgumentException>(() => SpeakerEmbeddings.Cosine([0f, 0f], [0.6f, 0.8f]));
        var verify = Assert.Throws<ArgumentException>(() => SpeakerEmbeddings.Verify([0.6f, 0.8f], [0f, 0f], 0.5));

        Assert.Contains("Cosine similarity is undefined for a zero vector; vector 'a' is all zeros.", cosine.Message);
        Assert.Equal("a", cosine.ParamName);
        Assert.Contains("Cosine similarity is undefined for a zero vector; vector 'utterance' is all zeros.", verify.Message);
        Assert.Equal("utterance", verify.ParamName);
    }

    [Fact]
    public void Verify_NaNThreshold_Throws()
    {
        // Every comparison with NaN is false: a NaN threshold would reject every trial without a word.
        var ex = Assert.Throws<ArgumentException>(() => SpeakerEmbeddings.Verify([1f, 0f], [0.6f, 0.8f], double.NaN));
        Assert.Equal("threshold", ex.ParamName);
        Assert.Contains("Threshold is NaN.", ex.Message);
    }
}
