;;;; The Lack environment of a request: the property list an application
;;;; takes, built on the loop thread from a C10K:REQUEST.

(in-package #:clack.handler.c10k)

(defun method-keyword (method)
  "METHOD as a keyword. c10k gives the usual ones as keywords; another is
found among the keywords that exist (an application that tests for
:PROPFIND has interned it), else left a string, so that clients cannot
intern symbols at will."
  (if (stringp method)
      (or (find-symbol method :keyword) method)
      method))

(defun split-host-port (text default-port)
  "\"name:port\" (or \"[v6]:port\") as the name and the port, DEFAULT-PORT
when none is given."
  (let* ((bracket (position #\] text))
         (colon (position #\: text :from-end t :start (or bracket 0))))
    (values (string-trim "[]" (subseq text 0 colon))
            (or (and colon (parse-integer text :start (1+ colon) :junk-allowed t))
                default-port))))

(defun header-table (request)
  "REQUEST's header fields as an EQUAL hash table from lower-case names to
values, a repeated field's values joined with \", \"."
  (let ((table (make-hash-table :test 'equal)))
    (loop for (name . value) in (c10k:request-headers request)
          for key = (string-downcase name)
          for previous = (gethash key table)
          do (setf (gethash key table)
                   (if previous (concatenate 'string previous ", " value) value)))
    table))

(defun decoded-path (path)
  "PATH percent-decoded (UTF-8); PATH itself if it is malformed."
  (if (find #\% path)
      (handler-case (c10k:url-decode path)
        (c10k:c10k-error () path))
      path))

(defun request-uri (request)
  "REQUEST's target in origin-form, \"/path?query\", as Clack's
:REQUEST-URI is: the target as sent, unless it is in absolute-form, then
the URI's path and query."
  (if (eq (c10k:request-target-form request) :absolute)
      (let ((query (c10k:request-query request)))
        (if query
            (concatenate 'string (c10k:request-path request) "?" query)
            (c10k:request-path request)))
      (c10k:request-target request)))

(defun make-env (request raw-body local-address)
  "The environment of REQUEST for an application, RAW-BODY its body stream.
The server is named by the host the request is for (an absolute-form
target's, else Host's), else by LOCAL-ADDRESS, the server's \"host:port\".
:C10K.REQUEST is the C10K:REQUEST itself (WebSockets accept it)."
  (let* ((headers (header-table request))
         (host (c10k:request-host request))
         (length (gethash "content-length" headers)))
    (multiple-value-bind (server-name server-port)
        (if host
            (values (string-trim "[]" host)
                    (or (c10k:request-port request)
                        (if (equal (c10k:request-scheme request) "https") 443 80)))
            (split-host-port local-address 80))
      (multiple-value-bind (remote-addr remote-port)
          (split-host-port (c10k:request-peer request) nil)
        (list :request-method (method-keyword (c10k:request-method request))
              :script-name ""
              :path-info (decoded-path (c10k:request-path request))
              :query-string (c10k:request-query request)
              :server-name server-name
              :server-port server-port
              :server-protocol (if (eql 0 (c10k:request-http-minor request)) :http/1.0 :http/1.1)
              :request-uri (request-uri request)
              :url-scheme :http
              :remote-addr remote-addr
              :remote-port remote-port
              :content-type (gethash "content-type" headers)
              :content-length (and length (parse-integer length :junk-allowed t))
              :headers headers
              :raw-body raw-body
              :clack.streaming t
              :c10k.request request)))))
