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

    [Fact]
    public void Selects_NullPatternInList_ThrowsNamingListAndIndex()
    {
        var policy = CompressionPolicy.FixedRank(1) with { Include = ["fc*", null!] };

        var e = Assert.Throws<InvalidOperationException>(() => policy.Selects("fc1"));

        Assert.Contains("CompressionPolicy.Include[1] is null; expected a name pattern", e.Message);
    }

    [Fact]
    public void Validate_BudgetBelowOne_NamesFieldAndValue()
    {
        var errors = CompressionPolicy.ParameterBudgetOf(0).Validate();

        Assert.Equal(["ParameterBudget must be positive for a budget policy, got 0."], errors);
    }

    [Fact]
    public void Validate_UndefinedSelection_NamesFieldAndNumber()
    {
        var policy = CompressionPolicy.FixedRank(1) with { Selection = (RankSelection)99 };

        var errors = policy.Validate();

        Assert.Equal(["Selection must be FixedRank, EnergyThreshold or ParameterBudget, got 99."], errors);
    }
}
