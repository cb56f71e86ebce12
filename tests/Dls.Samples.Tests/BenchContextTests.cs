using Dls.Samples.Abstractions;
using Microsoft.Extensions.Logging.Abstractions;

namespace Dls.Samples.Tests;

public sealed class BenchContextTests
{
    [Fact]
    public void Constructor_NullHostOrLogger_ThrowsNamingIt()
    {
        using var host = new SampleHost([], TextWriter.Null, TextWriter.Null, verbose: false);
        Assert.Equal("host", Assert.Throws<ArgumentNullException>(() => new BenchContext(null!, quick: true, NullLogger.Instance)).ParamName);
        Assert.Equal("logger", Assert.Throws<ArgumentNullException>(() => new BenchContext(host, quick: true, logger: null!)).ParamName);
    }
}
