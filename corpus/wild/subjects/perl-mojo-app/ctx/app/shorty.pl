#!/usr/bin/env perl
use Mojolicious::Lite -signatures;
use DBI;

plugin Config => {file => app->home->child('shorty.conf')};
app->secrets(app->config->{secrets});

helper db => sub ($c) {
  state $dbh = do {
    my $dbh = DBI->connect("dbi:SQLite:dbname=$ENV{SHORTY_DB}", '', '',
      {RaiseError => 1, AutoCommit => 1, sqlite_unicode => 1});
    $dbh->do('PRAGMA journal_mode=WAL');
    $dbh->do('CREATE TABLE IF NOT EXISTS links (
      code TEXT PRIMARY KEY, url TEXT NOT NULL, hits INTEGER NOT NULL DEFAULT 0,
      created TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP)');
    $dbh;
  };
};

my @alphabet = ('a' .. 'z', 'A' .. 'Z', 0 .. 9);
sub new_code { join '', map { $alphabet[rand @alphabet] } 1 .. 7 }

get '/health' => sub ($c) {
  $c->db->selectrow_array('SELECT 1');
  $c->render(text => 'ok');
};

get '/' => 'index';

post '/links' => sub ($c) {
  my $v = $c->validation;
  $v->required('url')->like(qr{^https?://}i);
  return $c->render(template => 'index', status => 400, error => 'Enter an http(s) URL')
    if $v->has_error;
  my $code = new_code();
  $c->db->do('INSERT INTO links (code, url) VALUES (?, ?)', undef, $code, $v->param('url'));
  $c->render(template => 'created', short => $c->config->{base_url} . "/$code");
};

get '/:code' => [code => qr/[A-Za-z0-9]{7}/] => sub ($c) {
  my ($url) = $c->db->selectrow_array('SELECT url FROM links WHERE code = ?', undef, $c->param('code'));
  return $c->reply->not_found unless $url;
  $c->db->do('UPDATE links SET hits = hits + 1 WHERE code = ?', undef, $c->param('code'));
  $c->redirect_to($url);
};

app->start;
