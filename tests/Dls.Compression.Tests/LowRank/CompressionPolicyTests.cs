using Dls.Compression.LowRank;

namespace Dls.Compression.Tests.LowRank;

public sealed class CompressionPolicyTests
{
    [Fact]
    public void Selects_NullInclude_ThrowsNamingInclude()
    {
        var policy = CompressionPolicy.FixedRank(1) with { Include = null! };

        var e = Assert.Throws<InvalidOperationException>(() => policy.Selects("fc1"));

        Assert.Contains("CompressionPolicy.Include is null", e.Message);
    }

    [Fact]
    public void Selects_NullExclude_ThrowsNamingExclude()
    {
        var policy = CompressionPolicy.FixedRank(1) with { Exclude = null! };

        var e = Assert.Throws<InvalidOperationException>(() => policy.Selects("fc1"));

        Assert.Contains("CompressionPolicy.Exclude is null", e.Message);
    }

    [Fact]
    public void Validate_BlankPatterns_NameListAndIndex()
    {
        var policy = CompressionPolicy.FixedRank(1) with { Include = ["fc*", " "], Exclude = [null!] };

        var errors = policy.Validate();

        Assert.Equal(["Include[1] must be a non-empty pattern, got ' '.", "Exclude[0] must be a non-empty pattern, got null."], errors);
    }
}
