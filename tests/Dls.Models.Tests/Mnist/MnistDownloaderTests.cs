using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Dls.Models.Mnist;

namespace Dls.Models.Tests.Mnist;

/// <summary>The downloader against a loopback HTTP server; never touches the network.</summary>
public sealed class MnistDownloaderTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("dls-dl-").FullName;
    private readonly HttpListener listener = new();
    private readonly string prefix;
    private readonly Dictionary<string, byte[]> served = [];
    private int requests;

    public MnistDownloaderTests()
    {
        int port;
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((IPEndPoint)probe.LocalEndpoint).Port;
        }
        prefix = $"http://127.0.0.1:{port}/";
        listener.Prefixes.Add(prefix);
        listener.Start();
        _ = Task.Run(ServeAsync);
    }

    private async Task ServeAsync()
    {
        while (listener.IsListening)
        {
            HttpListenerContext context;
            try { context = await listener.GetContextAsync(); }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException) { return; }
            Interlocked.Increment(ref requests);
            _ = Task.Run(() => RespondAsync(context));   // one request at a time would let a slow one hold up the rest
        }
    }

    private async Task RespondAsync(HttpListenerContext context)
    {
        try
        {
            string path = context.Request.Url!.AbsolutePath;
            if (path.StartsWith("/slow/", StringComparison.Ordinal))
                await Task.Delay(30_000);                 // a mirror that does not answer within the client's timeout
            if (served.TryGetValue(path, out var body))
            {
                context.Response.StatusCode = 200;
                context.Response.ContentLength64 = body.Length;
                await context.Response.OutputStream.WriteAsync(body);
            }
            else
            {
                context.Response.StatusCode = 404;
            }
            context.Response.Close();
        }
        catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
        {
            // The client gave up (timeout) or the listener stopped.
        }
    }

    public void Dispose()
    {
        listener.Stop();
        listener.Close();
        Directory.Delete(dir, recursive: true);
    }

    private static string Sha(byte[] b) => Convert.ToHexStringLower(SHA256.HashData(b));

    [Fact]
    public async Task DownloadAsync_FirstMirrorMissing_FallsBackAndVerifies()
    {
        byte[] images = IdxFixtures.Gzip(IdxFixtures.Images(2, 2, 2));
        byte[] labels = IdxFixtures.Gzip(IdxFixtures.Labels(3, 4));
        served["/good/a.gz"] = images;
        served["/good/b.gz"] = labels;
        var options = new MnistDownloadOptions
        {
            Mirrors = [new Uri(prefix + "missing/"), new Uri(prefix + "good/")],
            Sha256 = new Dictionary<string, string> { ["a.gz"] = Sha(images), ["b.gz"] = Sha(labels) },
        };
        using var http = new HttpClient();
        var paths = await new MnistDownloader(http, options).DownloadAsync(dir);
        Assert.Equal(images, File.ReadAllBytes(paths[0]));
        Assert.Equal(labels, File.ReadAllBytes(paths[1]));

        int before = requests;
        await new MnistDownloader(http, options).DownloadAsync(dir); // verified files are not fetched again
        Assert.Equal(before, requests);
    }

    [Fact]
    public async Task DownloadAsync_FirstMirrorTimesOut_FallsBackToTheNext()
    {
        byte[] labels = IdxFixtures.Gzip(IdxFixtures.Labels(3, 4));
        served["/slow/b.gz"] = labels;
        served["/good/b.gz"] = labels;
        var options = new MnistDownloadOptions
        {
            Mirrors = [new Uri(prefix + "slow/"), new Uri(prefix + "good/")],
            Sha256 = new Dictionary<string, string> { ["b.gz"] = Sha(labels) },
        };
        // 2 s: the good mirror answers in milliseconds, but a loaded CI machine running tests in parallel once took more
        // than 300 ms; the slow one never answers within 30 s.
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };

        var paths = await new MnistDownloader(http, options).DownloadAsync(dir);

        Assert.Equal(labels, File.ReadAllBytes(Assert.Single(paths)));
    }

    [Fact]
    public async Task DownloadAsync_WrongHash_ThrowsWithExpectedAndFound_LeavesNoFile()
    {
        byte[] body = [1, 2, 3];
        served["/m/a.gz"] = body;
        string expected = new('0', 64);
        var options = new MnistDownloadOptions { Mirrors = [new Uri(prefix + "m/")], Sha256 = new Dictionary<string, string> { ["a.gz"] = expected } };
        using var http = new HttpClient();
        var e = await Assert.ThrowsAsync<InvalidDataException>(() => new MnistDownloader(http, options).DownloadAsync(dir));
        Assert.Contains($"expected SHA-256 {expected}, found {Sha(body)}", e.Message);
        Assert.Empty(Directory.GetFiles(dir));
    }

    [Fact]
    public void CanonicalHashes_CoverTheFourStandardFiles()
    {
        Assert.Equal(MnistIdx.StandardFileNames.Select(n => n + ".gz").Order(), MnistDownloadOptions.CanonicalSha256.Keys.Order());
        Assert.All(MnistDownloadOptions.CanonicalSha256.Values, h => Assert.Matches("^[0-9a-f]{64}$", h));
    }

    [Fact]
    public async Task DownloadAsync_MirrorWithoutTrailingSlash_KeepsItsLastSegment()
    {
        byte[] labels = IdxFixtures.Gzip(IdxFixtures.Labels(3, 4));
        served["/datasets/mnist/b.gz"] = labels;
        var options = new MnistDownloadOptions
        {
            Mirrors = [new Uri(prefix + "datasets/mnist")],
            Sha256 = new Dictionary<string, string> { ["b.gz"] = Sha(labels) },
        };
        using var http = new HttpClient();

        var paths = await new MnistDownloader(http, options).DownloadAsync(dir);

        Assert.Equal(labels, File.ReadAllBytes(Assert.Single(paths)));
    }

    [Fact]
    public async Task DownloadAsync_UpperCaseSha256_Matches()
    {
        byte[] labels = IdxFixtures.Gzip(IdxFixtures.Labels(3, 4));
        served["/m/b.gz"] = labels;
        var options = new MnistDownloadOptions
        {
            Mirrors = [new Uri(prefix + "m/")],
            Sha256 = new Dictionary<string, string> { ["b.gz"] = Sha(labels).ToUpperInvariant() },
        };
        using var http = new HttpClient();

        var paths = await new MnistDownloader(http, options).DownloadAsync(dir);

        Assert.Equal(labels, File.ReadAllBytes(Assert.Single(paths)));
        int before = requests;
        await new MnistDownloader(http, options).DownloadAsync(dir); // the file on disk matches the upper-case hash too
        Assert.Equal(before, requests);
    }

    [Fact]
    public void Constructor_NullListsAndZeroMaxBytes_ThrowsListingEveryOption()
    {
        using var http = new HttpClient();
        var options = new MnistDownloadOptions { Mirrors = null!, Sha256 = null!, MaxBytes = 0 };

        var e = Assert.Throws<ArgumentException>(() => new MnistDownloader(http, options));

        Assert.Equal("options", e.ParamName);
        Assert.Contains("Mirrors must not be null", e.Message);
        Assert.Contains("Sha256 must not be null", e.Message);
        Assert.Contains("MaxBytes must be positive, got 0", e.Message);
    }

    [Fact]
    public void Constructor_RelativeMirrorAndMalformedHash_ThrowsNamingEntries()
    {
        using var http = new HttpClient();
        var options = new MnistDownloadOptions
        {
            Mirrors = [new Uri(prefix + "m/"), new Uri("mnist/", UriKind.Relative)],
            Sha256 = new Dictionary<string, string> { ["a.gz"] = "abc", ["b.gz"] = new('0', 64) },
        };

        var e = Assert.Throws<ArgumentException>(() => new MnistDownloader(http, options));

        Assert.Contains("Mirrors[1] must be an absolute http or https URI, got 'mnist/'", e.Message);
        Assert.Contains("Sha256['a.gz'] must be 64 hexadecimal digits, got 'abc'", e.Message);
        Assert.DoesNotContain("b.gz", e.Message);
    }

    [Fact]
    public void Validate_Defaults_NoProblems()
    {
        Assert.Empty(new MnistDownloadOptions().Validate());
    }

    /// <summary>An in-process HTTP handler: each request is answered by <c>respond</c>, never over a socket.</summary>
    private sealed class ScriptedHandler(Func<HttpRequestMessage, HttpResponseMessage> respond) : HttpMessageHandler
    {
        public List<string> Requested { get; } = [];

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Requested.Add(request.RequestUri!.AbsoluteUri);
            return Task.FromResult(respond(request));
        }
    }

    /// <summary>A body whose length is not announced (no Content-Length), as a chunked response's.</summary>
    private sealed class UnannouncedContent(byte[] body) : HttpContent
    {
        protected override Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context) => stream.WriteAsync(body).AsTask();

        protected override Task<Stream> CreateContentReadStreamAsync() => Task.FromResult<Stream>(new MemoryStream(body, writable: false));

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }

    /// <summary>A body whose stream breaks after its first bytes, as a dropped connection's does.</summary>
    private sealed class BreakingContent : HttpContent
    {
        protected override Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context) => throw new IOException("connection reset by peer");

        protected override Task<Stream> CreateContentReadStreamAsync() => Task.FromResult<Stream>(new BreakingStream());

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }

        private sealed class BreakingStream : MemoryStream
        {
            private bool gaveSome;

            public override int Read(byte[] buffer, int offset, int count)
            {
                if (gaveSome) throw new IOException("connection reset by peer");
                gaveSome = true;
                buffer[offset] = 0x1F;
                return 1;
            }

            public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
            {
                if (gaveSome) throw new IOException("connection reset by peer");
                gaveSome = true;
                buffer.Span[0] = 0x1F;
                return ValueTask.FromResult(1);
            }
        }
    }

    private static MnistDownloadOptions OneFile(byte[] expected, long maxBytes, params string[] mirrors) => new()
    {
        Mirrors = mirrors.Select(m => new Uri(m)).ToArray(),
        Sha256 = new Dictionary<string, string> { ["a.gz"] = Sha(expected) },
        MaxBytes = maxBytes,
    };

    [Fact]
    public async Task DownloadAsync_ServerAnnouncesMoreThanMaxBytes_TriesNextMirrorAndSaysWhy()
    {
        byte[] body = IdxFixtures.Gzip(IdxFixtures.Labels(1, 2, 3));
        using var handler = new ScriptedHandler(r => new HttpResponseMessage(HttpStatusCode.OK)
        {
            // The first mirror announces 1 MB (and would send it); the second serves the file.
            Content = r.RequestUri!.Host == "big.example" ? new ByteArrayContent(new byte[1_000_000]) : new ByteArrayContent(body),
        });
        using var http = new HttpClient(handler);
        var options = OneFile(body, maxBytes: 1000, "https://big.example/mnist/", "https://good.example/mnist/");

        var paths = await new MnistDownloader(http, options).DownloadAsync(dir);

        Assert.Equal(body, File.ReadAllBytes(Assert.Single(paths)));
        Assert.Equal(["https://big.example/mnist/a.gz", "https://good.example/mnist/a.gz"], handler.Requested);
    }

    [Fact]
    public async Task DownloadAsync_EveryMirrorTooLarge_ThrowsListingEachAttemptAndLeavesNoFile()
    {
        byte[] expected = [1, 2, 3];
        using var handler = new ScriptedHandler(r => new HttpResponseMessage(HttpStatusCode.OK)
        {
            Content = r.RequestUri!.Host == "announced.example" ? new ByteArrayContent(new byte[5000]) : new UnannouncedContent(new byte[5000]),
        });
        using var http = new HttpClient(handler);
        var options = OneFile(expected, maxBytes: 4096, "https://announced.example/m/", "https://chunked.example/m/");

        var e = await Assert.ThrowsAsync<InvalidDataException>(() => new MnistDownloader(http, options).DownloadAsync(dir));

        Assert.Contains("Could not download a.gz: ", e.Message);
        Assert.Contains("https://announced.example/m/a.gz: expected at most 4096 bytes, server announces 5000", e.Message);
        Assert.Contains("https://chunked.example/m/a.gz: expected at most 4096 bytes, received more", e.Message);
        Assert.Empty(Directory.GetFiles(dir));
    }

    [Fact]
    public async Task DownloadAsync_ConnectionBreaksWhileReading_ThrowsNamingMirrorAndCause()
    {
        using var handler = new ScriptedHandler(_ => new HttpResponseMessage(HttpStatusCode.OK) { Content = new BreakingContent() });
        using var http = new HttpClient(handler);
        var options = OneFile([1, 2, 3], maxBytes: 4096, "https://flaky.example/m/");

        var e = await Assert.ThrowsAsync<InvalidDataException>(() => new MnistDownloader(http, options).DownloadAsync(dir));

        Assert.Contains("Could not download a.gz: https://flaky.example/m/a.gz: connection reset by peer", e.Message);
        Assert.Empty(Directory.GetFiles(dir));
    }

    [Fact]
    public void Constructor_EmptyListsAndBadEntries_ThrowsNamingEach()
    {
        using var http = new HttpClient();
        var none = new MnistDownloadOptions { Mirrors = [], Sha256 = new Dictionary<string, string>() };
        var bad = new MnistDownloadOptions
        {
            Mirrors = [null!, new Uri("https://host/mnist/?token=1"), new Uri("https://host/mnist/#top")],
            Sha256 = new Dictionary<string, string> { ["sub/a.gz"] = new('0', 64), [".."] = new('1', 64), [" "] = new('2', 64) },
        };

        var empty = Assert.Throws<ArgumentException>(() => new MnistDownloader(http, none));
        var entries = Assert.Throws<ArgumentException>(() => new MnistDownloader(http, bad));

        Assert.Contains("Mirrors must hold at least one base URI, got none.", empty.Message);
        Assert.Contains("Sha256 must name at least one file, got none.", empty.Message);
        Assert.Contains("Mirrors[0] must not be null.", entries.Message);
        Assert.Contains("Mirrors[1] must be a folder URI without query or fragment (file names are appended to its path), got 'https://host/mnist/?token=1'.", entries.Message);
        Assert.Contains("Mirrors[2] must be a folder URI without query or fragment", entries.Message);
        Assert.Contains("Sha256 keys must be plain file names, got 'sub/a.gz'.", entries.Message);
        Assert.Contains("Sha256 keys must be plain file names, got '..'.", entries.Message);
        Assert.Contains("Sha256 keys must be plain file names, got ' '.", entries.Message);
    }

    [Fact]
    public void Constructor_NullClient_ThrowsArgumentNullNamingIt()
    {
        var e = Assert.Throws<ArgumentNullException>(() => new MnistDownloader(null!));

        Assert.Equal("http", e.ParamName);
    }
}
