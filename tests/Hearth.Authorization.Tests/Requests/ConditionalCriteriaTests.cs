using Hearth.Authorization.Requests;

namespace Hearth.Authorization.Tests.Requests;

public class ConditionalCriteriaTests
{
    [Theory]
    [InlineData("identifier=urn%3Asys%7C123", "identifier", "urn:sys|123")]
    [InlineData("?identifier=a+b", "identifier", "a b")]
    [InlineData("subject:Patient=p1", "subject:Patient", "p1")]
    [InlineData("subject.identifier=x", "subject.identifier", "x")]
    [InlineData("code:text=pulse", "code:text", "pulse")]
    [InlineData("_id=o1", "_id", "o1")]
    [InlineData("_lastUpdated=gt2020", "_lastUpdated", "gt2020")]
    [InlineData("_has:Condition:subject:code=x", "_has:Condition:subject:code", "x")]
    public void Criteria_Read_AndSentAgainAsRead(string query, string name, string value)
    {
        var criteria = ConditionalCriteria.Parse("Observation", query, out var error);
        Assert.Null(error);
        Assert.Equal([KeyValuePair.Create(name, value)], criteria!.Criteria);
        Assert.Equal(Uri.EscapeDataString(name) + "=" + Uri.EscapeDataString(value), criteria.Query);
    }

    [Theory]
    [InlineData("", "needs search criteria")]
    [InlineData("&&", "needs search criteria")]
    [InlineData("identifier", "name and a value")]
    [InlineData("identifier=", "name and a value")]
    [InlineData("=x", "name and a value")]
    [InlineData("notaparameter=x", "not a search parameter of Observation")]
    [InlineData("birthdate=2000", "not a search parameter of Observation")] // Patient's, not Observation's
    [InlineData("_count=1", "not a search criterion")]
    [InlineData("_sort=date", "not a search criterion")]
    [InlineData("_include=Observation:subject", "not a search criterion")]
    [InlineData("_summary=true", "not a search criterion")]
    [InlineData("_format=json", "not a search criterion")]
    [InlineData("access_token=abc", "not a search parameter")]
    [InlineData("identifier=%FF", "name and a value")]
    public void NotCriteria_Refused_SayingWhy(string query, string words)
    {
        Assert.Null(ConditionalCriteria.Parse("Observation", query, out var error));
        Assert.Contains(words, error, StringComparison.Ordinal);
    }

    [Fact]
    public void Criteria_Bounded_AsSearchesAre()
    {
        var many = string.Join('&', Enumerable.Range(0, SearchLimits.MaxParameters + 1).Select(i => "identifier=" + i));
        Assert.Null(ConditionalCriteria.Parse("Observation", many, out var error));
        Assert.Contains("at most", error, StringComparison.Ordinal);
        Assert.NotNull(ConditionalCriteria.Parse("Observation", string.Join('&', Enumerable.Range(0, SearchLimits.MaxParameters).Select(i => "identifier=" + i)), out _));
    }
}
