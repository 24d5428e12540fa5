;;;; Clack responses to c10k answers: (status headers body) with BODY a list
;;;; of strings or octet vectors, an octet vector, a pathname or NIL; or a
;;;; delayed response, a function called with a responder.

(in-package #:clack.handler.c10k)

(defun header-alist (plist)
  "The Clack header PLIST as an alist for c10k: NIL values dropped, the
values of a repeated name joined with \", \" (Set-Cookie stays one field
per value), Content-Length and Transfer-Encoding left to the library."
  (let ((alist '()))
    (loop for (name value) on plist by #'cddr
          for key = (c10k::header-text name)
          for previous = (assoc key alist :test #'string-equal)
          do (cond ((null value))
                   ((member key '("content-length" "transfer-encoding") :test #'string-equal))
                   ((and previous (string-not-equal key "set-cookie"))
                    (setf (cdr previous) (format nil "~A, ~A" (cdr previous) value)))
                   (t (push (cons key (c10k::header-text value)) alist))))
    (nreverse alist)))

(defun content-length (plist)
  "The Content-Length the application declared in PLIST, or NIL."
  (let ((value (loop for (name value) on plist by #'cddr
                     when (string-equal (c10k::header-text name) "content-length")
                       return value)))
    (typecase value
      (integer value)
      (string (parse-integer value :junk-allowed t)))))

(defun name-length (name)
  (length (if (symbolp name) (symbol-name name) name)))

(defun same-name-p (a b)
  "True if the header names A and B (symbols or strings) are the same name."
  (or (eq a b)
      (and (= (name-length a) (name-length b)) (string-equal a b))))

(defun plain-headers-p (plist)
  "True if the header PLIST can go to c10k as it is: names are symbols or
strings, none repeated, none of Content-Length and Transfer-Encoding, no
NIL values. HEADER-ALIST makes an alist of the others."
  (loop for tail on plist by #'cddr
        for (name value) = tail
        always (and (or (symbolp name) (stringp name))
                    value
                    (not (member name '(:content-length :transfer-encoding)
                                 :test #'same-name-p))
                    (loop for (other) on (cddr tail) by #'cddr
                          never (same-name-p name other)))))

(defun body-bytes (body)
  "BODY (a list of strings and octet vectors, one of them, or NIL) as one
string or octet vector for c10k."
  (cond ((null body) nil)
        ((and (consp body) (null (cdr body))) (car body))
        ((consp body)
         (let* ((parts (mapcar #'c10k::body-octets body))
                (out (make-array (reduce #'+ parts :key #'length)
                                 :element-type '(unsigned-byte 8))))
           (loop with start = 0
                 for part in parts
                 do (replace out part :start1 start)
                    (incf start (length part)))
           out))
        (t body)))

(defun check-response (response)
  "RESPONSE if it is a Clack response list, else an error naming it."
  (unless (and (consp response) (integerp (first response)) (listp (second response)))
    (error "The application returned ~S: a response is (status headers body) or a ~
            function taking a responder." response))
  response)

(defun respond-now (request response)
  "Answers the live REQUEST with the Clack RESPONSE list, on the loop thread."
  (destructuring-bind (status headers &optional body) (check-response response)
    (if (and (not (pathnamep body)) (plain-headers-p headers))
        (c10k::respond request status headers (body-bytes body) :plist t)
        (c10k::respond request status (header-alist headers)
                       (if (pathnamep body) body (body-bytes body))))))

(defun send-whole (reply response)
  "Completes REPLY with the whole Clack RESPONSE."
  (destructuring-bind (status headers &optional body) (check-response response)
    (c10k:send-reply reply status (header-alist headers)
                     (if (pathnamep body) body (body-bytes body)))))

(defun start-stream (reply status headers)
  "Starts REPLY as a streamed response and returns the Clack writer,
(lambda (chunk &key close)), callable from any thread: it waits while the
client is slow to read (except on the loop thread), and ignores calls
after the client left or the stream was closed."
  (c10k:start-reply reply status (header-alist headers)
                    :content-length (content-length headers))
  (lambda (chunk &key close)
    (when (and chunk (plusp (length chunk)))
      (c10k:write-reply reply chunk))
    (when close
      (c10k:end-reply reply))))

(defun responder (reply)
  "The responder given to a delayed response: called with (status headers
body), it sends the whole response; with (status headers), it starts a
stream and returns its writer."
  (lambda (response)
    (if (cddr (check-response response))
        (send-whole reply response)
        (start-stream reply (first response) (second response)))))

(defun answer-reply (reply response)
  "Answers the deferred REPLY with the Clack RESPONSE (a list or a delayed
response). Runs the delayed response's function here."
  (if (functionp response)
      (funcall response (responder reply))
      (send-whole reply response)))
