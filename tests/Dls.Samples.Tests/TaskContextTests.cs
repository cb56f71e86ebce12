using Dls.Samples.Abstractions;

namespace Dls.Samples.Tests;

public sealed class TaskContextTests
{
    [Fact]
    public void Constructor_NullLogger_ThrowsNamingIt()
    {
        using var host = new SampleHost([], TextWriter.Null, TextWriter.Null, verbose: false);
        var ex = Assert.Throws<ArgumentNullException>(() => new TaskContext(host, "results", null, 42, quick: false, logger: null!));
        Assert.Equal("logger", ex.ParamName);
    }
}
